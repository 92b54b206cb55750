using Dataflow.Engine.Backends;
using Silk.NET.Core.Native;
using Silk.NET.Vulkan;
using DeviceInfo = Dataflow.Engine.Backends.DeviceInfo;

namespace Dataflow.Backends.Vulkan;

/// <summary>What the kernel generators and the backend need to know about a physical device.</summary>
internal sealed record VkDeviceDesc(PhysicalDevice Handle, DeviceInfo Info, uint QueueFamily, uint MemoryType,
    uint MaxGroupInvocations, uint[] MaxGroupSize, uint[] MaxGroupCount, long MaxStorageBufferRange, uint MaxPushConstants,
    long SharedMemoryBytes);

/// <summary>
/// Makes Vulkan instances and finds every physical device with a compute queue and host-visible
/// coherent memory. GPUs come first (discrete, integrated, virtual), then the rest (CPU drivers such
/// as lavapipe), each group in the loader's order, so device 0 is the one to prefer.
/// </summary>
internal static unsafe class VulkanDevices
{
    /// <summary>A Vulkan 1.0 instance with no layers or extensions: compute needs none.</summary>
    public static Instance CreateInstance(Vk vk)
    {
        var name = SilkMarshal.StringToPtr("dataflow");
        try
        {
            var app = new ApplicationInfo
            {
                SType = StructureType.ApplicationInfo,
                PApplicationName = (byte*)name,
                PEngineName = (byte*)name,
                ApiVersion = 1u << 22,
            };
            var info = new InstanceCreateInfo { SType = StructureType.InstanceCreateInfo, PApplicationInfo = &app };
            Instance instance;
            var result = vk.CreateInstance(&info, null, &instance);
            if (result != Result.Success)
                throw new BackendUnavailableException($"vulkan: cannot create an instance: {result}. " +
                    (result == Result.ErrorIncompatibleDriver
                        ? "The loader found no driver; install one (for a CPU, mesa-vulkan-drivers) and check `vulkaninfo --summary`."
                        : "Check the driver with `vulkaninfo --summary`."));
            return instance;
        }
        finally
        {
            SilkMarshal.Free(name);
        }
    }

    /// <summary>Every usable device's description, through an instance made and destroyed for the purpose.</summary>
    public static IReadOnlyList<DeviceInfo> List(Vk vk)
    {
        var instance = CreateInstance(vk);
        try
        {
            return Find(vk, instance).Select(d => d.Info).ToList();
        }
        finally
        {
            vk.DestroyInstance(instance, null);
        }
    }

    public static IReadOnlyList<VkDeviceDesc> Find(Vk vk, Instance instance)
    {
        uint count = 0;
        VkApi.Check(vk.EnumeratePhysicalDevices(instance, &count, null), "vkEnumeratePhysicalDevices");
        var handles = new PhysicalDevice[count];
        fixed (PhysicalDevice* h = handles) VkApi.Check(vk.EnumeratePhysicalDevices(instance, &count, h), "vkEnumeratePhysicalDevices");
        var found = new List<VkDeviceDesc>();
        foreach (var handle in handles.Take((int)count))
            if (Describe(vk, handle) is { } d) found.Add(d);
        return found.OrderBy(d => Rank(d.Info.Kind)).ToList(); // stable: loader order within a kind
    }

    /// <summary>Device <paramref name="index"/> of <see cref="Find"/>, or an error that says what there is instead.</summary>
    public static VkDeviceDesc Pick(Vk vk, Instance instance, int index)
    {
        IReadOnlyList<VkDeviceDesc> devices;
        try
        {
            devices = Find(vk, instance);
        }
        catch (VulkanException e)
        {
            throw new BackendUnavailableException($"vulkan: cannot list devices: {e.Message}", e);
        }
        if (devices.Count == 0)
            throw new BackendUnavailableException("vulkan: no Vulkan device with a compute queue and host-visible memory found. " +
                                                  "Install a driver (for a CPU, mesa-vulkan-drivers) and check `vulkaninfo --summary`.");
        if (index < 0 || index >= devices.Count)
            throw new ArgumentOutOfRangeException("deviceIndex",
                $"vulkan: there is no device {index}; found {devices.Count}: " +
                string.Join("; ", devices.Select((d, i) => $"{i}: {d.Info.Name} ({d.Info.Kind})")));
        return devices[index];
    }

    private static int Rank(string kind) => kind switch { "gpu" => 0, "other" => 1, _ => 2 };

    /// <summary>The device, or null when it has no compute queue or no host-visible coherent memory.</summary>
    private static VkDeviceDesc? Describe(Vk vk, PhysicalDevice device)
    {
        PhysicalDeviceProperties p;
        vk.GetPhysicalDeviceProperties(device, &p);
        var limits = p.Limits;

        uint families = 0;
        vk.GetPhysicalDeviceQueueFamilyProperties(device, &families, null);
        var queues = new QueueFamilyProperties[families];
        fixed (QueueFamilyProperties* q = queues) vk.GetPhysicalDeviceQueueFamilyProperties(device, &families, q);
        // A compute-only family (no graphics) is the dedicated one on GPUs that have it.
        int family = Array.FindIndex(queues, q => q.QueueFlags.HasFlag(QueueFlags.ComputeBit) && !q.QueueFlags.HasFlag(QueueFlags.GraphicsBit));
        if (family < 0) family = Array.FindIndex(queues, q => q.QueueFlags.HasFlag(QueueFlags.ComputeBit));
        if (family < 0) return null;

        PhysicalDeviceMemoryProperties mem;
        vk.GetPhysicalDeviceMemoryProperties(device, &mem);
        const MemoryPropertyFlags needed = MemoryPropertyFlags.HostVisibleBit | MemoryPropertyFlags.HostCoherentBit;
        int type = -1;
        for (int i = 0; i < mem.MemoryTypeCount && type < 0; i++) // device-local and host-visible first (lavapipe, unified memory, ReBAR)
            if (mem.MemoryTypes[i].PropertyFlags.HasFlag(needed | MemoryPropertyFlags.DeviceLocalBit)) type = i;
        for (int i = 0; i < mem.MemoryTypeCount && type < 0; i++)
            if (mem.MemoryTypes[i].PropertyFlags.HasFlag(needed)) type = i;
        if (type < 0) return null;
        long memory = (long)mem.MemoryHeaps[(int)mem.MemoryTypes[type].HeapIndex].Size;

        string kind = p.DeviceType switch
        {
            PhysicalDeviceType.DiscreteGpu or PhysicalDeviceType.IntegratedGpu or PhysicalDeviceType.VirtualGpu => "gpu",
            PhysicalDeviceType.Cpu => "cpu",
            _ => "other",
        };
        uint[] groupSize = [limits.MaxComputeWorkGroupSize[0], limits.MaxComputeWorkGroupSize[1], limits.MaxComputeWorkGroupSize[2]];
        uint[] groupCount = [limits.MaxComputeWorkGroupCount[0], limits.MaxComputeWorkGroupCount[1], limits.MaxComputeWorkGroupCount[2]];
        string name = SilkMarshal.PtrToString((nint)p.DeviceName) ?? "(unnamed)";
        var details = new Dictionary<string, string>
        {
            ["api version"] = VkApi.Version(p.ApiVersion),
            ["driver version"] = p.DriverVersion.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["vendor id"] = $"0x{p.VendorID:x4}",
            ["device type"] = p.DeviceType.ToString(),
            ["shared memory"] = $"{limits.MaxComputeSharedMemorySize / 1024} KiB",
            ["max storage buffer"] = $"{(long)limits.MaxStorageBufferRange >> 20} MiB",
            ["max work-group sizes"] = string.Join("x", groupSize),
            ["max work-group counts"] = string.Join("x", groupCount),
            ["queue family"] = family.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        // Vulkan does not report compute units; a CPU driver runs a thread per core.
        int units = kind == "cpu" ? Environment.ProcessorCount : 0;
        var info = new DeviceInfo("vulkan", name, kind, memory, units, (int)limits.MaxComputeWorkGroupInvocations) { Details = details };
        return new VkDeviceDesc(device, info, (uint)family, (uint)type, limits.MaxComputeWorkGroupInvocations, groupSize, groupCount,
            limits.MaxStorageBufferRange, limits.MaxPushConstantsSize, limits.MaxComputeSharedMemorySize);
    }
}

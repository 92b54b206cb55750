using Dataflow.Engine.Backends;
using Silk.NET.Vulkan;
using VkDevice = Silk.NET.Vulkan.Device;

namespace Dataflow.Backends.Vulkan;

/// <summary>
/// An opened device: the logical device with its one compute queue, and the instance it came from,
/// which must outlive it. Every other Vulkan object of a backend is made from this one and destroyed
/// before it.
/// </summary>
internal sealed unsafe class VulkanDevice : IDisposable
{
    public VulkanDevice(Vk vk, Instance instance, VkDeviceDesc desc)
    {
        Vk = vk;
        Instance = instance;
        Desc = desc;
        float priority = 1f;
        var queueInfo = new DeviceQueueCreateInfo
        {
            SType = StructureType.DeviceQueueCreateInfo,
            QueueFamilyIndex = desc.QueueFamily,
            QueueCount = 1,
            PQueuePriorities = &priority,
        };
        var deviceInfo = new DeviceCreateInfo { SType = StructureType.DeviceCreateInfo, QueueCreateInfoCount = 1, PQueueCreateInfos = &queueInfo };
        VkDevice device;
        var result = vk.CreateDevice(desc.Handle, &deviceInfo, null, &device);
        if (result != Result.Success) throw new BackendUnavailableException($"vulkan: cannot create a device on {desc.Info.Name}: {result}");
        Handle = device;
        Queue queue;
        vk.GetDeviceQueue(device, desc.QueueFamily, 0, &queue);
        Queue = queue;
    }

    /// <summary>Opens device <paramref name="deviceIndex"/> of <see cref="VulkanDevices.Find"/> on an instance of its own.</summary>
    public static VulkanDevice Open(Vk vk, int deviceIndex)
    {
        var instance = VulkanDevices.CreateInstance(vk);
        try
        {
            return new VulkanDevice(vk, instance, VulkanDevices.Pick(vk, instance, deviceIndex));
        }
        catch
        {
            vk.DestroyInstance(instance, null);
            throw;
        }
    }

    public Vk Vk { get; }
    public Instance Instance { get; }

    /// <summary>The physical device's limits and the memory type buffers live in.</summary>
    public VkDeviceDesc Desc { get; }

    public VkDevice Handle { get; }
    public Queue Queue { get; }

    public void WaitIdle() => Vk.DeviceWaitIdle(Handle);

    public void Dispose()
    {
        Vk.DestroyDevice(Handle, null);
        Vk.DestroyInstance(Instance, null);
    }
}

using System.Text;
using Dataflow.Engine.Backends;
using Silk.NET.OpenCL;
using ClDeviceInfo = Silk.NET.OpenCL.DeviceInfo;
using DeviceInfo = Dataflow.Engine.Backends.DeviceInfo;

namespace Dataflow.Backends.OpenCL;

/// <summary>What the kernel generators need to know about a device: its limits and its float rules.</summary>
internal sealed record ClDevice(nint Platform, nint Handle, DeviceInfo Info, long MaxWorkGroupSize, long[] MaxWorkItemSizes,
    long LocalMemBytes, int ComputeUnits, bool CorrectlyRoundedDivideSqrt)
{
    /// <summary>Identifies the compiler a program was built by, for the program cache key.</summary>
    public string CompilerIdentity => $"{Info.Name}|{Info.Details.GetValueOrDefault("platform")}|{Info.Details.GetValueOrDefault("driver")}";
}

/// <summary>
/// Finds every OpenCL device on every platform. GPUs come first, then accelerators, then the rest
/// (CPU drivers such as PoCL), each group in platform order, so device 0 is the one to prefer.
/// </summary>
internal static unsafe class OpenClDevices
{
    /// <summary>Extensions worth showing in <c>dataflow devices</c>: precision and atomics that kernels may one day use.</summary>
    private static readonly string[] ExtensionsOfInterest =
        ["cl_khr_fp64", "cl_khr_fp16", "cl_khr_int64_base_atomics", "cl_khr_global_int32_base_atomics", "cl_khr_subgroups", "cl_intel_subgroups"];

    private static readonly object DiscoveryGate = new();
    private static IReadOnlyList<ClDevice>? _discovered;

    /// <summary>
    /// The devices, discovered once per process under a lock. The ICD loader's first
    /// <c>clGetPlatformIDs</c> is not safe to race: two backends opened at once on different threads
    /// could see no platform at all, and drivers do not come and go while a process runs.
    /// </summary>
    public static IReadOnlyList<ClDevice> Find(CL cl)
    {
        lock (DiscoveryGate) return _discovered ??= Discover(cl);
    }

    private static IReadOnlyList<ClDevice> Discover(CL cl)
    {
        uint platformCount;
        int err = cl.GetPlatformIDs(0, null, &platformCount);
        // The ICD loader answers CL_PLATFORM_NOT_FOUND_KHR when no driver is registered.
        if (err == -1001 || platformCount == 0) return [];
        ClApi.Check(err, "clGetPlatformIDs");
        var platforms = new nint[platformCount];
        fixed (nint* p = platforms) ClApi.Check(cl.GetPlatformIDs(platformCount, p, null), "clGetPlatformIDs");

        var found = new List<ClDevice>();
        foreach (var platform in platforms)
        {
            uint count;
            err = cl.GetDeviceIDs(platform, DeviceType.All, 0, null, &count);
            if (err == -1 || count == 0) continue; // CL_DEVICE_NOT_FOUND: a platform with nothing on it
            ClApi.Check(err, "clGetDeviceIDs");
            var devices = new nint[count];
            fixed (nint* d = devices) ClApi.Check(cl.GetDeviceIDs(platform, DeviceType.All, count, d, null), "clGetDeviceIDs");
            foreach (var device in devices) found.Add(Describe(cl, platform, device));
        }
        return found.OrderBy(d => Rank(d.Info.Kind)).ToList(); // OrderBy is stable: platform order within a kind
    }

    private static int Rank(string kind) => kind switch { "gpu" => 0, "accelerator" => 1, _ => 2 };

    private static ClDevice Describe(CL cl, nint platform, nint device)
    {
        var type = (DeviceType)Scalar<ulong>(cl, device, ClDeviceInfo.Type);
        string kind = type.HasFlag(DeviceType.Gpu) ? "gpu" : type.HasFlag(DeviceType.Accelerator) ? "accelerator" : type.HasFlag(DeviceType.Cpu) ? "cpu" : "other";
        long memory = (long)Scalar<ulong>(cl, device, ClDeviceInfo.GlobalMemSize);
        int units = (int)Scalar<uint>(cl, device, ClDeviceInfo.MaxComputeUnits);
        long maxGroup = (long)Scalar<nuint>(cl, device, ClDeviceInfo.MaxWorkGroupSize);
        uint dims = Scalar<uint>(cl, device, ClDeviceInfo.MaxWorkItemDimensions);
        var itemSizes = Array((int)dims, cl, device, ClDeviceInfo.MaxWorkItemSizes);
        long local = (long)Scalar<ulong>(cl, device, ClDeviceInfo.LocalMemSize);
        ulong fpConfig = Scalar<ulong>(cl, device, ClDeviceInfo.SingleFPConfig);
        const ulong correctlyRoundedDivideSqrt = 1 << 7; // CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT
        var extensions = String(cl, device, ClDeviceInfo.Extensions).Split(' ', StringSplitOptions.RemoveEmptyEntries);

        var details = new Dictionary<string, string>
        {
            ["platform"] = PlatformString(cl, platform, PlatformInfo.Name),
            ["vendor"] = String(cl, device, ClDeviceInfo.Vendor),
            ["version"] = String(cl, device, ClDeviceInfo.Version),
            ["driver"] = String(cl, device, ClDeviceInfo.DriverVersion),
            ["local memory"] = $"{local / 1024} KiB",
            ["max allocation"] = $"{(long)Scalar<ulong>(cl, device, ClDeviceInfo.MaxMemAllocSize) >> 20} MiB",
            ["max work-item sizes"] = string.Join("x", itemSizes),
            ["extensions"] = string.Join(" ", ExtensionsOfInterest.Where(extensions.Contains)),
        };
        var info = new DeviceInfo("opencl", String(cl, device, ClDeviceInfo.Name), kind, memory, units, (int)Math.Min(maxGroup, int.MaxValue)) { Details = details };
        return new ClDevice(platform, device, info, maxGroup, itemSizes, local, units, (fpConfig & correctlyRoundedDivideSqrt) != 0);
    }

    private static T Scalar<T>(CL cl, nint device, ClDeviceInfo what) where T : unmanaged
    {
        T value = default;
        ClApi.Check(cl.GetDeviceInfo(device, what, (nuint)sizeof(T), &value, null), $"clGetDeviceInfo({what})");
        return value;
    }

    private static long[] Array(int count, CL cl, nint device, ClDeviceInfo what)
    {
        var values = new nuint[Math.Max(count, 1)];
        fixed (nuint* v = values) ClApi.Check(cl.GetDeviceInfo(device, what, (nuint)(values.Length * sizeof(nuint)), v, null), $"clGetDeviceInfo({what})");
        return values.Take(count).Select(v => (long)v).ToArray();
    }

    private static string String(CL cl, nint device, ClDeviceInfo what)
    {
        nuint size;
        ClApi.Check(cl.GetDeviceInfo(device, what, 0, null, &size), $"clGetDeviceInfo({what})");
        var bytes = new byte[(int)size];
        fixed (byte* b = bytes) ClApi.Check(cl.GetDeviceInfo(device, what, size, b, null), $"clGetDeviceInfo({what})");
        return Encoding.UTF8.GetString(bytes).TrimEnd('\0').Trim();
    }

    private static string PlatformString(CL cl, nint platform, PlatformInfo what)
    {
        nuint size;
        ClApi.Check(cl.GetPlatformInfo(platform, what, 0, null, &size), $"clGetPlatformInfo({what})");
        var bytes = new byte[(int)size];
        fixed (byte* b = bytes) ClApi.Check(cl.GetPlatformInfo(platform, what, size, b, null), $"clGetPlatformInfo({what})");
        return Encoding.UTF8.GetString(bytes).TrimEnd('\0').Trim();
    }
}

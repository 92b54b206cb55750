using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Jobs;

namespace Dataflow.Backends.Cpu;

/// <summary>What <c>dataflow devices</c> shows for the host: model name, threads, memory, SIMD level.</summary>
internal static class CpuDevice
{
    public static DeviceInfo Describe()
    {
        string simd = Avx512F.IsSupported ? "avx512" : Avx2.IsSupported && Fma.IsSupported ? "avx2+fma"
            : Vector256.IsHardwareAccelerated ? "256-bit" : Vector128.IsHardwareAccelerated ? "128-bit" : "scalar";
        return new DeviceInfo("cpu", ModelName(), "cpu", MemoryBytes(), Environment.ProcessorCount, 1)
        {
            Details = new Dictionary<string, string>
            {
                ["simd"] = simd,
                ["threads"] = JobSystem.Shared.WorkerCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["architecture"] = System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant(),
            },
        };
    }

    private static string ModelName()
    {
        try
        {
            if (File.Exists("/proc/cpuinfo"))
                foreach (var line in File.ReadLines("/proc/cpuinfo"))
                    if (line.StartsWith("model name", StringComparison.Ordinal) && line.IndexOf(':') is int colon and >= 0)
                        return line[(colon + 1)..].Trim();
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture + " cpu";
    }

    private static long MemoryBytes()
    {
        try
        {
            if (File.Exists("/proc/meminfo"))
                foreach (var line in File.ReadLines("/proc/meminfo"))
                    if (line.StartsWith("MemTotal:", StringComparison.Ordinal))
                    {
                        var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                        if (parts.Length >= 2 && long.TryParse(parts[1], out long kib)) return kib * 1024;
                    }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
    }
}

namespace Dataflow.Engine.Backends;

/// <summary>
/// A run would need more memory than the device has, or a buffer larger than the backend can
/// hold: a user's choice (batch, sequence length, model size), so it is refused up front, naming
/// the bytes needed and available, rather than failing mid-allocation as an internal error.
/// </summary>
public sealed class DeviceMemoryException(string message) : Exception(message);

/// <summary>Checked byte arithmetic and the up-front "does it fit" test the compile schedule and the trainer call.</summary>
public static class MemoryBudget
{
    /// <summary><paramref name="elements"/> × <paramref name="bytesPerElement"/>, refused (not wrapped) when it passes 2^63.</summary>
    public static long Bytes(long elements, string what, int bytesPerElement = sizeof(float))
    {
        try
        {
            return checked(elements * bytesPerElement);
        }
        catch (OverflowException)
        {
            throw new DeviceMemoryException($"{what}: {elements:N0} elements of {bytesPerElement} bytes are more than 2^63 bytes; use a smaller batch, sequence length or model");
        }
    }

    /// <summary>The sum of element counts in bytes, checked.</summary>
    public static long Bytes(IEnumerable<long> elementCounts, string what)
    {
        long total = 0;
        foreach (var count in elementCounts)
        {
            try { total = checked(total + count); }
            catch (OverflowException) { throw new DeviceMemoryException($"{what}: more than 2^63 elements in all; use a smaller batch, sequence length or model"); }
        }
        return Bytes(total, what);
    }

    /// <summary>Refuses <paramref name="bytesNeeded"/> when the device reports less memory (a device reporting 0 is not checked).</summary>
    public static void Require(IBackend backend, long bytesNeeded, string what) =>
        Require(bytesNeeded, backend.Device.MemoryBytes, $"{what} on {backend.Name} ({backend.Device.Name})");

    public static void Require(long bytesNeeded, long bytesAvailable, string what)
    {
        if (bytesAvailable > 0 && bytesNeeded > bytesAvailable)
            throw new DeviceMemoryException($"{what}: {Format(bytesNeeded)} needed, but {Format(bytesAvailable)} is available; use a smaller batch, sequence length or model");
    }

    /// <summary>
    /// The length of a host array of <paramref name="elements"/> (a batch staged for feeding), refused
    /// up front when the machine lacks the memory or one array cannot hold that many.
    /// </summary>
    public static int HostArray(long elements, int bytesPerElement, string what)
    {
        Require(Bytes(elements, what, bytesPerElement), GC.GetGCMemoryInfo().TotalAvailableMemoryBytes, $"{what} in host memory");
        if (elements > Array.MaxLength)
            throw new DeviceMemoryException($"{what}: {elements:N0} elements are more than one array holds ({Array.MaxLength:N0}); use a smaller batch");
        return (int)elements;
    }

    /// <summary>Refuses one buffer larger than a backend's per-buffer limit.</summary>
    public static void RequireBuffer(string backend, long elements, long maxElements)
    {
        if (elements > maxElements)
            throw new DeviceMemoryException($"a buffer of {elements:N0} elements is larger than the {backend} backend holds in one buffer ({maxElements:N0}); use a smaller batch, sequence length or model");
    }

    /// <summary>1.5 GiB, 12.0 MiB, 512 B.</summary>
    public static string Format(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
        double value = bytes;
        int unit = 0;
        while (value >= 1024 && unit < units.Length - 1) { value /= 1024; unit++; }
        return unit == 0 ? $"{bytes} B" : $"{value:0.0} {units[unit]}";
    }
}

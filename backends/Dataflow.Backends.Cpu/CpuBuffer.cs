using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Dataflow.Engine.Backends;

namespace Dataflow.Backends.Cpu;

/// <summary>
/// Host memory for one tensor: raw 4-byte elements viewed as float or int. The array lives on the
/// pinned object heap so kernels can work through pointers without pinning on every launch.
/// </summary>
public sealed unsafe class CpuBuffer : IDeviceBuffer
{
    private float[]? _data;

    internal CpuBuffer(CpuBackend owner, long elements)
    {
        if (elements < 0) throw new ArgumentOutOfRangeException(nameof(elements), "a buffer cannot have a negative size");
        MemoryBudget.RequireBuffer("cpu", elements, Array.MaxLength);
        Owner = owner;
        Elements = elements;
        _data = GC.AllocateArray<float>((int)elements, pinned: true); // zeroed by the runtime
    }

    public long Elements { get; }
    public IBackend Owner { get; }

    internal float[] Data => _data ?? throw new ObjectDisposedException(nameof(CpuBuffer));

    internal Span<float> Floats => Data;
    internal Span<int> Ints => MemoryMarshal.Cast<float, int>(Data.AsSpan());

    /// <summary>Stable because the array is pinned for its whole life.</summary>
    internal float* Pointer => (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(Data));

    public void Dispose() => _data = null;
}

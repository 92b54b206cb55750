using Dataflow.Engine.Backends;
namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// A contiguous input read as if broadcast to a larger shape (NumPy rules). Reading a linear range
/// of the broadcast tensor walks it in runs along the innermost merged axis: a run is a plain copy
/// (same shape, row vectors repeated over rows) or a fill (scalars, columns [.., 1] repeated along a
/// row), so the common cases cost a memcpy or memset per run, with index math only at run ends.
/// </summary>
internal sealed unsafe class BroadcastView
{
    private readonly long[] _dims;
    private readonly long[] _strides;

    public BroadcastView(long[] inputShape, long[] outputShape)
    {
        (_dims, _strides) = TensorLayout.Canonical(outputShape, TensorLayout.BroadcastStrides(inputShape, outputShape));
        IsIdentity = _dims.Length == 0 || (_dims.Length == 1 && _strides[0] == 1);
        IsScalar = Array.TrueForAll(_strides, s => s == 0);
    }

    /// <summary>Element i of the view is element i of the input.</summary>
    public bool IsIdentity { get; }

    /// <summary>Every element of the view is input element 0.</summary>
    public bool IsScalar { get; }

    public void Read<T>(T* source, long start, Span<T> destination) where T : unmanaged
    {
        int length = destination.Length;
        if (length == 0) return;
        if (IsScalar)
        {
            destination.Fill(source[0]);
            return;
        }
        if (IsIdentity)
        {
            new ReadOnlySpan<T>(source + start, length).CopyTo(destination);
            return;
        }

        int rank = _dims.Length;
        Span<long> index = stackalloc long[rank];
        long rest = start, offset = 0;
        for (int d = rank - 1; d >= 0; d--)
        {
            index[d] = rest % _dims[d];
            rest /= _dims[d];
            offset += index[d] * _strides[d];
        }

        long inner = _dims[rank - 1], stride = _strides[rank - 1];
        int pos = 0;
        while (true)
        {
            int run = (int)Math.Min(inner - index[rank - 1], length - pos);
            var target = destination.Slice(pos, run);
            if (stride == 1) new ReadOnlySpan<T>(source + offset, run).CopyTo(target);
            else if (stride == 0) target.Fill(source[offset]);
            else for (int t = 0; t < run; t++) target[t] = source[offset + t * stride];
            pos += run;
            if (pos >= length) return;

            // The run ended at the end of the innermost axis: carry into the outer ones.
            offset += (run - inner) * stride;
            index[rank - 1] = 0;
            for (int d = rank - 2; d >= 0; d--)
            {
                offset += _strides[d];
                if (++index[d] < _dims[d]) break;
                offset -= _dims[d] * _strides[d];
                index[d] = 0;
            }
        }
    }
}

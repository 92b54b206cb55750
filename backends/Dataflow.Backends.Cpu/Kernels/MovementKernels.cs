using Dataflow.Engine.Backends;

namespace Dataflow.Backends.Cpu.Kernels;

// Movement ops copy raw 4-byte elements (as int), so they serve f32 and i32 alike and keep bits exact.

/// <summary>Reshape: the data is already row-major in the new shape; a copy.</summary>
internal sealed unsafe class ReshapeKernel(OpKernelSpec spec) : CpuKernel(spec, [spec.Inputs[0].Elements, spec.Output.Elements])
{
    public override void Run(ReadOnlySpan<CpuBuffer> buffers, in LaunchParams launch)
    {
        int* src = (int*)buffers[0].Pointer, dst = (int*)buffers[1].Pointer;
        if (src == dst) return;
        Par.For((int)BufferElements[1], 1, new Pointers(src, dst), static (c, s, e) => new ReadOnlySpan<int>(c.Src + s, e - s).CopyTo(new Span<int>(c.Dst + s, e - s)));
    }
}

/// <summary>Expand: broadcast copy, parallel over linear chunks of the output.</summary>
internal sealed unsafe class ExpandKernel : CpuKernel
{
    private const int Chunk = 4096;
    private readonly BroadcastView _view;

    public ExpandKernel(OpKernelSpec spec) : base(spec, [spec.Inputs[0].Elements, spec.Output.Elements])
    {
        _view = new BroadcastView(spec.Inputs[0].Shape, spec.Output.Shape);
    }

    public override void Run(ReadOnlySpan<CpuBuffer> buffers, in LaunchParams launch)
    {
        int* src = (int*)buffers[0].Pointer, dst = (int*)buffers[1].Pointer;
        long total = BufferElements[1];
        int chunks = (int)((total + Chunk - 1) / Chunk);
        Par.For(chunks, Chunk, (Kernel: this, Data: new Pointers(src, dst)), static (s, first, last) => s.Kernel.Chunks(s.Data, first, last));
    }

    private void Chunks(Pointers data, int first, int last)
    {
        long start = (long)first * Chunk, end = Math.Min(BufferElements[1], (long)last * Chunk);
        _view.Read(data.Src, start, new Span<int>(data.Dst + start, (int)(end - start)));
    }
}

/// <summary>
/// Permute: output axis i is input axis Perm[i]. Axes that stay neighbours are merged first, so
/// most permutes become either a batched 2-D transpose (done in cache-sized tiles) or a copy of
/// contiguous runs; anything else walks the output rows with a strided inner loop.
/// </summary>
internal sealed unsafe class PermuteKernel : CpuKernel
{
    private const int Tile = 32;
    private readonly long[] _dims;     // canonical output dims
    private readonly long[] _strides;  // source stride of each canonical output axis
    private readonly Mode _mode;

    private enum Mode { Copy, Transpose, General }

    public PermuteKernel(OpKernelSpec spec) : base(spec, [spec.Inputs[0].Elements, spec.Output.Elements])
    {
        var input = spec.Inputs[0].Shape;
        var perm = spec.Attrs.Perm;
        var inStrides = TensorLayout.Strides(input);
        var outDims = new long[perm.Length];
        var srcStrides = new long[perm.Length];
        for (int i = 0; i < perm.Length; i++)
        {
            outDims[i] = input[perm[i]];
            srcStrides[i] = inStrides[perm[i]];
        }
        (_dims, _strides) = TensorLayout.Canonical(outDims, srcStrides);
        int r = _dims.Length;
        if (r == 0 || (r == 1 && _strides[0] == 1)) _mode = Mode.Copy;
        else if (r >= 2 && _strides[r - 2] == 1 && _strides[r - 1] == _dims[r - 2]
                 && (r == 2 || (r == 3 && _strides[0] == _dims[1] * _dims[2]))) _mode = Mode.Transpose;
        else _mode = Mode.General;
    }

    public override void Run(ReadOnlySpan<CpuBuffer> buffers, in LaunchParams launch)
    {
        int* src = (int*)buffers[0].Pointer, dst = (int*)buffers[1].Pointer;
        long total = BufferElements[1];
        switch (_mode)
        {
            case Mode.Copy:
                Par.For((int)total, 1, new Pointers(src, dst), static (c, s, e) => new ReadOnlySpan<int>(c.Src + s, e - s).CopyTo(new Span<int>(c.Dst + s, e - s)));
                break;
            case Mode.Transpose:
                Transpose(src, dst);
                break;
            default:
                General(src, dst);
                break;
        }
    }

    /// <summary>Output [batch, P, Q] from input [batch, Q, P], tile by tile so both sides stay in cache.</summary>
    private void Transpose(int* src, int* dst)
    {
        int r = _dims.Length;
        int p = (int)_dims[r - 2], q = (int)_dims[r - 1];
        int batch = r == 3 ? (int)_dims[0] : 1;
        int rowTiles = (p + Tile - 1) / Tile;
        Par.For(batch * rowTiles, (long)Tile * q, (Kernel: this, Data: new Pointers(src, dst)), static (s, first, last) => s.Kernel.TransposeTiles(s.Data.Src, s.Data.Dst, first, last));
    }

    private void TransposeTiles(int* src, int* dst, int first, int last)
    {
        int r = _dims.Length;
        int p = (int)_dims[r - 2], q = (int)_dims[r - 1];
        int rowTiles = (p + Tile - 1) / Tile;
        for (int task = first; task < last; task++)
        {
            int b = task / rowTiles, p0 = task % rowTiles * Tile, p1 = Math.Min(p, p0 + Tile);
            int* s = src + (long)b * p * q, d = dst + (long)b * p * q;
            for (int q0 = 0; q0 < q; q0 += Tile)
            {
                int q1 = Math.Min(q, q0 + Tile);
                for (int i = p0; i < p1; i++)
                {
                    int* row = d + (long)i * q;
                    for (int j = q0; j < q1; j++) row[j] = s[(long)j * p + i];
                }
            }
        }
    }

    private void General(int* src, int* dst)
    {
        int r = _dims.Length;
        long inner = _dims[r - 1];
        long rows = BufferElements[1] / inner;
        // A row costs its copy plus the step to the next row's source.
        Par.For((int)rows, inner + 8, new Walk(src, dst, _dims, _strides), static (w, first, last) => w.Rows(first, last));
    }

    /// <summary>
    /// Output rows [first, last): the first row's source offset is decoded once, then an odometer over the outer axes
    /// steps it row by row (a division per axis and row cost more than the copy of an attention head's row). An inner
    /// run that is contiguous in the source (the head split and merge around attention) is one block copy.
    /// </summary>
    private readonly struct Walk(int* src, int* dst, long[] dims, long[] strides)
    {
        private const int MaxOuterAxes = 16;
        private readonly int* _src = src, _dst = dst;
        private readonly long[] _dims = dims, _strides = strides;

        public void Rows(int first, int last)
        {
            int outer = _dims.Length - 1;
            long inner = _dims[outer], innerStride = _strides[outer];
            // Permutes of more than 17 unmergeable axes do not occur in practice; they would still run, on a heap index.
            Span<long> index = outer <= MaxOuterAxes ? stackalloc long[MaxOuterAxes] : new long[outer];
            long rest = first, offset = 0;
            for (int d = outer - 1; d >= 0; d--)
            {
                index[d] = rest % _dims[d];
                offset += index[d] * _strides[d];
                rest /= _dims[d];
            }
            for (long row = first; row < last; row++)
            {
                int* o = _dst + row * inner;
                int* s = _src + offset;
                if (innerStride == 1) new ReadOnlySpan<int>(s, (int)inner).CopyTo(new Span<int>(o, (int)inner));
                else for (long j = 0; j < inner; j++) o[j] = s[j * innerStride];
                for (int d = outer - 1; d >= 0; d--)
                {
                    offset += _strides[d];
                    if (++index[d] < _dims[d]) break;
                    offset -= _strides[d] * _dims[d];
                    index[d] = 0;
                }
            }
        }
    }
}

/// <summary>A movement kernel's source and destination, for a static parallel body (a launch allocates no closure).</summary>
internal readonly unsafe struct Pointers(int* src, int* dst)
{
    public readonly int* Src = src, Dst = dst;
}

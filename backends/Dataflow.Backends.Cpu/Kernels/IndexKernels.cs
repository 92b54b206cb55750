using System.Numerics.Tensors;
using Dataflow.Engine.Backends;
using Dataflow.Graph.Tensors;

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// Gather: out[n, :] = table[index[n], :]; an out-of-range index yields a row of zeros. Rows are copied in pieces,
/// so a gather of a few wide rows (attention's pick of q, k or v from the stacked heads, one row of B·h·T·dk) still
/// runs on every core.
/// </summary>
internal sealed unsafe class GatherKernel : CpuKernel
{
    private const long Piece = 16 * 1024;
    private readonly long _rows, _width, _count, _pieces;

    public GatherKernel(OpKernelSpec spec) : base(spec, [spec.Inputs[0].Elements, spec.Inputs[1].Elements, spec.Output.Elements])
    {
        _rows = spec.Inputs[0].Shape[0];
        _width = ShapeMath.Elements(spec.Inputs[0].Shape.AsSpan(1));
        _count = spec.Inputs[1].Elements;
        _pieces = Math.Max(1, (_width + Piece - 1) / Piece);
    }

    public override void Run(ReadOnlySpan<CpuBuffer> buffers, in LaunchParams launch)
    {
        var rows = new Rows((int*)buffers[0].Pointer, (int*)buffers[1].Pointer, (int*)buffers[2].Pointer, _rows, _width, _pieces);
        Par.For((int)(_count * _pieces), Math.Min(_width, Piece), rows, static (r, first, last) =>
        {
            for (long t = first; t < last; t++)
            {
                long n = t / r.Pieces, c0 = t % r.Pieces * Piece;
                int len = (int)Math.Min(Piece, r.Width - c0);
                var dst = new Span<int>(r.Output + n * r.Width + c0, len);
                long i = r.Index[n];
                if (i < 0 || i >= r.Count) dst.Clear();
                else new ReadOnlySpan<int>(r.Table + i * r.Width + c0, len).CopyTo(dst);
            }
        });
    }

    private readonly struct Rows(int* table, int* index, int* output, long count, long width, long pieces)
    {
        public readonly int* Table = table, Index = index, Output = output;
        public readonly long Count = count, Width = width, Pieces = pieces;
    }
}

/// <summary>
/// ScatterAdd: out[rows, :] = 0, then out[index[n], :] += values[n, :] for every n in order. Tasks
/// split the columns, never the indices, so each output element is summed in the same order on
/// every run (deterministic, no atomics); out-of-range indices are skipped. A row's first value is
/// written as value + 0 (the same bits as 0 + value) instead of being added to a cleared row, so only
/// the rows no index names are cleared: attention's pick of q, k or v names one of three wide rows.
/// </summary>
internal sealed unsafe class ScatterAddKernel : CpuKernel
{
    private const int ColumnWidth = 512;
    private readonly long _rows, _width, _count;
    private readonly bool[] _named, _first;   // per row: some index names it; per index: the first to name its row

    public ScatterAddKernel(OpKernelSpec spec) : base(spec, [spec.Inputs[0].Elements, spec.Inputs[1].Elements, spec.Output.Elements])
    {
        _rows = spec.Count;
        _count = spec.Inputs[1].Elements;
        _width = _count == 0 ? ShapeMath.Elements(spec.Output.Shape.AsSpan(1)) : spec.Inputs[0].Elements / _count;
        _named = new bool[_rows];
        _first = new bool[_count];
    }

    public override void Run(ReadOnlySpan<CpuBuffer> buffers, in LaunchParams launch)
    {
        float* values = buffers[0].Pointer, output = buffers[2].Pointer;
        int* index = (int*)buffers[1].Pointer;
        Array.Clear(_named);
        for (long n = 0; n < _count; n++)
        {
            long i = index[n];
            _first[n] = i >= 0 && i < _rows && !_named[i];
            if (_first[n]) _named[i] = true;
        }
        int tasks = (int)((_width + ColumnWidth - 1) / ColumnWidth);
        Par.For(tasks, (_count + _rows) * Math.Min(_width, ColumnWidth), (Kernel: this, Values: (nint)values, Index: (nint)index, Output: (nint)output),
            static (s, first, last) => s.Kernel.Columns((float*)s.Values, (int*)s.Index, (float*)s.Output, first, last));
    }

    private void Columns(float* values, int* index, float* output, int first, int last)
    {
        long rows = _rows, width = _width, count = _count;
        for (int t = first; t < last; t++)
        {
            long c0 = (long)t * ColumnWidth;
            int w = (int)Math.Min(ColumnWidth, width - c0);
            for (long r = 0; r < rows; r++)
                if (!_named[r]) new Span<float>(output + r * width + c0, w).Clear();
            for (long n = 0; n < count; n++)
            {
                long i = index[n];
                if (i < 0 || i >= rows) continue;
                var dst = new Span<float>(output + i * width + c0, w);
                var value = new ReadOnlySpan<float>(values + n * width + c0, w);
                if (_first[n]) TensorPrimitives.Add(value, 0f, dst);
                else TensorPrimitives.Add(dst, value, dst);
            }
        }
    }
}

/// <summary>OneHot: out[n, index[n]] = 1, everything else 0 (an out-of-range index gives a zero row).</summary>
internal sealed unsafe class OneHotKernel(OpKernelSpec spec)
    : CpuKernel(spec, [spec.Inputs[0].Elements, spec.Output.Elements])
{
    private readonly long _depth = spec.Count;

    public override void Run(ReadOnlySpan<CpuBuffer> buffers, in LaunchParams launch)
    {
        int* index = (int*)buffers[0].Pointer;
        float* output = buffers[1].Pointer;
        Par.For((int)BufferElements[0], _depth, (Index: (nint)index, Output: (nint)output, Depth: _depth), static (s, first, last) => Rows((int*)s.Index, (float*)s.Output, s.Depth, first, last));
    }

    private static void Rows(int* index, float* output, long depth, int first, int last)
    {
        new Span<float>(output + first * depth, (int)((last - first) * depth)).Clear();
        for (long n = first; n < last; n++)
        {
            long i = index[n];
            if (i >= 0 && i < depth) output[n * depth + i] = 1f;
        }
    }
}

/// <summary>
/// StoreRows: out = target with row index[n] replaced by values[n]; out-of-range indices are skipped.
/// The engine gives out the target's own storage (an in-place write of a few cache rows); where the
/// buffers differ the target is copied first, so the kernel is also correct standing alone. A bf16x2
/// target (a bf16 cache) takes f32 rows twice its row's elements and stores their bfloat16 words in order.
/// </summary>
internal sealed unsafe class StoreRowsKernel : CpuKernel
{
    private readonly long _rows, _width, _count;
    private readonly bool _packed;

    public StoreRowsKernel(OpKernelSpec spec) : base(spec, [spec.Inputs[0].Elements, spec.Inputs[1].Elements, spec.Inputs[2].Elements, spec.Output.Elements])
    {
        _rows = spec.Inputs[0].Shape[0];
        _width = ShapeMath.Elements(spec.Inputs[0].Shape.AsSpan(1));
        _count = spec.Inputs[2].Elements;
        _packed = spec.Output.DType == DType.Bf16x2;
    }

    public override void Run(ReadOnlySpan<CpuBuffer> buffers, in LaunchParams launch)
    {
        float* target = buffers[0].Pointer, values = buffers[1].Pointer, output = buffers[3].Pointer;
        int* index = (int*)buffers[2].Pointer;
        long rows = _rows, width = _width;
        if (target != output) Buffer.MemoryCopy(target, output, rows * width * sizeof(float), rows * width * sizeof(float));
        var store = new Store(values, index, output, rows, width);
        if (_packed)
            Par.For((int)_count, width, store, static (s, first, last) =>
            {
                for (long n = first; n < last; n++)
                {
                    long i = s.Index[n];
                    if (i < 0 || i >= s.Rows) continue;
                    // 2·width values to 2·width words: the bf16x2 row's elements, low half first.
                    Bf16.Round(s.Values + n * 2 * s.Width, (ushort*)(s.Output + i * s.Width), 2 * s.Width);
                }
            });
        else
            Par.For((int)_count, width, store, static (s, first, last) =>
            {
                for (long n = first; n < last; n++)
                {
                    long i = s.Index[n];
                    if (i >= 0 && i < s.Rows) new ReadOnlySpan<float>(s.Values + n * s.Width, (int)s.Width).CopyTo(new Span<float>(s.Output + i * s.Width, (int)s.Width));
                }
            });
    }

    private readonly struct Store(float* values, int* index, float* output, long rows, long width)
    {
        public readonly float* Values = values, Output = output;
        public readonly int* Index = index;
        public readonly long Rows = rows, Width = width;
    }
}

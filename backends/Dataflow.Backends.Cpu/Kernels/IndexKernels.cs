using System.Numerics.Tensors;
using Dataflow.Engine.Backends;

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>Gather: out[n, :] = table[index[n], :]; an out-of-range index yields a row of zeros.</summary>
internal sealed unsafe class GatherKernel : CpuKernel
{
    private readonly long _rows, _width, _count;

    public GatherKernel(OpKernelSpec spec) : base(spec, [spec.Inputs[0].Elements, spec.Inputs[1].Elements, spec.Output.Elements])
    {
        _rows = spec.Inputs[0].Shape[0];
        _width = ShapeMath.Elements(spec.Inputs[0].Shape.AsSpan(1));
        _count = spec.Inputs[1].Elements;
    }

    public override void Run(ReadOnlySpan<CpuBuffer> buffers, in LaunchParams launch)
    {
        var rows = new Rows((int*)buffers[0].Pointer, (int*)buffers[1].Pointer, (int*)buffers[2].Pointer, _rows, _width);
        Par.For((int)_count, _width, rows, static (r, first, last) =>
        {
            for (long n = first; n < last; n++)
            {
                var dst = new Span<int>(r.Output + n * r.Width, (int)r.Width);
                long i = r.Index[n];
                if (i < 0 || i >= r.Count) dst.Clear();
                else new ReadOnlySpan<int>(r.Table + i * r.Width, (int)r.Width).CopyTo(dst);
            }
        });
    }

    private readonly struct Rows(int* table, int* index, int* output, long count, long width)
    {
        public readonly int* Table = table, Index = index, Output = output;
        public readonly long Count = count, Width = width;
    }
}

/// <summary>
/// ScatterAdd: out[rows, :] = 0, then out[index[n], :] += values[n, :] for every n in order. Tasks
/// split the columns, never the indices, so each output element is summed in the same order on
/// every run (deterministic, no atomics); out-of-range indices are skipped.
/// </summary>
internal sealed unsafe class ScatterAddKernel : CpuKernel
{
    private const int ColumnWidth = 512;
    private readonly long _rows, _width, _count;

    public ScatterAddKernel(OpKernelSpec spec) : base(spec, [spec.Inputs[0].Elements, spec.Inputs[1].Elements, spec.Output.Elements])
    {
        _rows = spec.Count;
        _count = spec.Inputs[1].Elements;
        _width = _count == 0 ? ShapeMath.Elements(spec.Output.Shape.AsSpan(1)) : spec.Inputs[0].Elements / _count;
    }

    public override void Run(ReadOnlySpan<CpuBuffer> buffers, in LaunchParams launch)
    {
        float* values = buffers[0].Pointer, output = buffers[2].Pointer;
        int* index = (int*)buffers[1].Pointer;
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
            for (long r = 0; r < rows; r++) new Span<float>(output + r * width + c0, w).Clear();
            for (long n = 0; n < count; n++)
            {
                long i = index[n];
                if (i < 0 || i >= rows) continue;
                var dst = new Span<float>(output + i * width + c0, w);
                TensorPrimitives.Add(dst, new ReadOnlySpan<float>(values + n * width + c0, w), dst);
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
/// buffers differ the target is copied first, so the kernel is also correct standing alone.
/// </summary>
internal sealed unsafe class StoreRowsKernel : CpuKernel
{
    private readonly long _rows, _width, _count;

    public StoreRowsKernel(OpKernelSpec spec) : base(spec, [spec.Inputs[0].Elements, spec.Inputs[1].Elements, spec.Inputs[2].Elements, spec.Output.Elements])
    {
        _rows = spec.Inputs[0].Shape[0];
        _width = ShapeMath.Elements(spec.Inputs[0].Shape.AsSpan(1));
        _count = spec.Inputs[2].Elements;
    }

    public override void Run(ReadOnlySpan<CpuBuffer> buffers, in LaunchParams launch)
    {
        float* target = buffers[0].Pointer, values = buffers[1].Pointer, output = buffers[3].Pointer;
        int* index = (int*)buffers[2].Pointer;
        long rows = _rows, width = _width;
        if (target != output) Buffer.MemoryCopy(target, output, rows * width * sizeof(float), rows * width * sizeof(float));
        Par.For((int)_count, width, new Store(values, index, output, rows, width), static (s, first, last) =>
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

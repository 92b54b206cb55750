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
        int* table = (int*)buffers[0].Pointer, index = (int*)buffers[1].Pointer, output = (int*)buffers[2].Pointer;
        long rows = _rows, width = _width;
        Par.For((int)_count, width, (first, last) =>
        {
            for (long n = first; n < last; n++)
            {
                var dst = new Span<int>(output + n * width, (int)width);
                long i = index[n];
                if (i < 0 || i >= rows) dst.Clear();
                else new ReadOnlySpan<int>(table + i * width, (int)width).CopyTo(dst);
            }
        });
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
        long rows = _rows, width = _width, count = _count;
        int tasks = (int)((width + ColumnWidth - 1) / ColumnWidth);
        Par.For(tasks, (count + rows) * Math.Min(width, ColumnWidth), (first, last) =>
        {
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
        });
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
        long depth = _depth;
        Par.For((int)BufferElements[0], depth, (first, last) =>
        {
            new Span<float>(output + first * depth, (int)((last - first) * depth)).Clear();
            for (long n = first; n < last; n++)
            {
                long i = index[n];
                if (i >= 0 && i < depth) output[n * depth + i] = 1f;
            }
        });
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
        Par.For((int)_count, width, (first, last) =>
        {
            for (long n = first; n < last; n++)
            {
                long i = index[n];
                if (i >= 0 && i < rows) new ReadOnlySpan<float>(values + n * width, (int)width).CopyTo(new Span<float>(output + i * width, (int)width));
            }
        });
    }
}

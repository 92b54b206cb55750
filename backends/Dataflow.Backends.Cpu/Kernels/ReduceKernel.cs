using System.Buffers;
using System.Numerics.Tensors;
using Dataflow.Engine.Backends;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// ReduceSum / ReduceMax over any set of axes. Size-1 axes are dropped and neighbouring axes of the
/// same kind merged, which leaves three fast shapes: [rows, R] (softmax, layernorm statistics),
/// [outer, R, cols] (column sums such as bias gradients) and [R] (a whole-tensor loss); anything
/// else, and all i32 reductions, take a strided path. Sums add float blocks of a few thousand
/// vectorised terms and carry the running total in double, so a million-term sum keeps float accuracy.
/// Partial sums are formed over fixed blocks, so results do not depend on how many threads ran.
/// </summary>
internal sealed unsafe class ReduceKernel : CpuKernel
{
    internal const int RowBlock = 4096;    // floats summed by one TensorPrimitives call (LayerNormKernel sums rows alike)
    private const int RowChunk = 1 << 16;  // elements of one row per parallel task
    private const int ColumnWidth = 256;   // columns per task in the column path
    internal const int ColumnBlock = 64;   // rows summed in float before folding into double (LayerNormBackwardKernel sums columns alike)

    private readonly bool _max;
    private readonly bool _int;
    private readonly Plan _plan;
    private readonly long _outer, _reduced, _inner;     // fast paths: [outer, reduced, inner]
    private readonly long[] _keptDims = [], _keptStrides = [], _redDims = [], _redStrides = [];

    private enum Plan { Copy, Rows, Columns, General }

    public ReduceKernel(OpKernelSpec spec) : base(spec, [spec.Inputs[0].Elements, spec.Output.Elements])
    {
        _max = spec.Op == OpCode.ReduceMax;
        _int = spec.Inputs[0].DType == DType.I32;
        var shape = spec.Inputs[0].Shape;
        var axes = spec.Attrs.Axes;

        // Merge into groups of (size, reduced?), dropping size-1 axes.
        var dims = new List<long>();
        var reduced = new List<bool>();
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] == 1) continue;
            bool r = axes.Contains(i);
            if (dims.Count > 0 && reduced[^1] == r) dims[^1] *= shape[i];
            else { dims.Add(shape[i]); reduced.Add(r); }
        }

        if (!reduced.Contains(true)) _plan = Plan.Copy;
        else if (!_int && dims.Count <= 3 && reduced.Count(r => r) == 1)
        {
            int at = reduced.IndexOf(true);
            _outer = at > 0 ? dims[0] : 1;
            _reduced = dims[at];
            _inner = at < dims.Count - 1 ? dims[^1] : 1;
            _plan = _inner == 1 ? Plan.Rows : Plan.Columns;
        }
        else
        {
            _plan = Plan.General;
            var strides = TensorLayout.Strides(dims.ToArray());
            var kd = new List<long>(); var ks = new List<long>(); var rd = new List<long>(); var rs = new List<long>();
            for (int i = 0; i < dims.Count; i++)
            {
                (reduced[i] ? rd : kd).Add(dims[i]);
                (reduced[i] ? rs : ks).Add(strides[i]);
            }
            (_keptDims, _keptStrides, _redDims, _redStrides) = (kd.ToArray(), ks.ToArray(), rd.ToArray(), rs.ToArray());
        }
    }

    public override void Run(ReadOnlySpan<CpuBuffer> buffers, in LaunchParams launch)
    {
        float* x = buffers[0].Pointer, y = buffers[1].Pointer;
        switch (_plan)
        {
            case Plan.Copy:
                new ReadOnlySpan<float>(x, (int)BufferElements[1]).CopyTo(new Span<float>(y, (int)BufferElements[1]));
                break;
            case Plan.Rows: Rows(x, y); break;
            case Plan.Columns: Columns(x, y); break;
            default:
                if (_int) General((int*)x, (int*)y);
                else General(x, y);
                break;
        }
    }

    private readonly struct RowsState(float* x, float* y, long n, bool max)
    {
        public readonly float* X = x, Y = y;
        public readonly long N = n;
        public readonly bool Max = max;
    }

    private void Rows(float* x, float* y)
    {
        long rows = _outer, n = _reduced;
        bool max = _max;
        int chunks = (int)((n + RowChunk - 1) / RowChunk);
        if (chunks == 1)
        {
            Par.For((int)rows, n, new RowsState(x, y, n, max), static (s, first, last) =>
            {
                for (long r = first; r < last; r++)
                    s.Y[r] = s.Max ? Max(s.X + r * s.N, s.N) : (float)Sum(s.X + r * s.N, s.N);
            });
            return;
        }

        // Long rows: split each into fixed chunks, then combine the partials in order. The partials
        // come from the shared pool, so a step allocates nothing here.
        var partial = ArrayPool<double>.Shared.Rent((int)(rows * chunks));
        try
        {
            fixed (double* sums = partial)
                Par.For((int)(rows * chunks), RowChunk, new Work(this, x, y, sums, chunks), static (s, first, last) => s.Kernel.RowChunks(s, first, last));
            for (long r = 0; r < rows; r++)
            {
                double acc = max ? double.NegativeInfinity : 0;
                for (long c = 0; c < chunks; c++)
                {
                    double v = partial[r * chunks + c];
                    acc = max ? (double.IsNaN(v) || v > acc ? v : acc) : acc + v;
                }
                y[r] = (float)acc;
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(partial);
        }
    }

    /// <summary>
    /// What a parallel range of this kernel reads: the kernel, its buffers and, for long rows, the partial
    /// sums and chunks per row. Passed by value to static bodies, so a launch allocates no closure.
    /// </summary>
    private readonly struct Work(ReduceKernel kernel, void* x, void* y, double* partial = null, int chunks = 0)
    {
        public readonly ReduceKernel Kernel = kernel;
        public readonly void* X = x, Y = y;
        public readonly double* Partial = partial;
        public readonly int Chunks = chunks;
    }

    private void RowChunks(in Work s, int first, int last)
    {
        long n = _reduced;
        for (long t = first; t < last; t++)
        {
            long r = t / s.Chunks, c = t % s.Chunks;
            long start = c * RowChunk, len = Math.Min(RowChunk, n - start);
            float* p = (float*)s.X + r * n + start;
            s.Partial[t] = _max ? Max(p, len) : Sum(p, len);
        }
    }

    private static double Sum(float* p, long n)
    {
        double acc = 0;
        for (long i = 0; i < n; i += RowBlock)
            acc += TensorPrimitives.Sum(new ReadOnlySpan<float>(p + i, (int)Math.Min(RowBlock, n - i)));
        return acc;
    }

    private static float Max(float* p, long n) => TensorPrimitives.Max(new ReadOnlySpan<float>(p, (int)n));

    private void Columns(float* x, float* y)
    {
        int widths = (int)((_inner + ColumnWidth - 1) / ColumnWidth);
        Par.For((int)(_outer * widths), _reduced * Math.Min(_inner, ColumnWidth), new Work(this, x, y), static (s, first, last) => s.Kernel.ColumnTasks((float*)s.X, (float*)s.Y, first, last));
    }

    private void ColumnTasks(float* x, float* y, int first, int last)
    {
        long rows = _reduced, cols = _inner;
        int widths = (int)((cols + ColumnWidth - 1) / ColumnWidth);
        bool max = _max;
        Span<float> block = stackalloc float[ColumnWidth];
        Span<double> total = stackalloc double[ColumnWidth];
        for (long t = first; t < last; t++)
        {
            long o = t / widths, c0 = t % widths * ColumnWidth;
            int w = (int)Math.Min(ColumnWidth, cols - c0);
            float* src = x + o * rows * cols + c0;
            var acc = block[..w];
            var sum = total[..w];
            if (max)
            {
                new ReadOnlySpan<float>(src, w).CopyTo(acc);
                for (long r = 1; r < rows; r++) TensorPrimitives.Max(acc, new ReadOnlySpan<float>(src + r * cols, w), acc);
                acc.CopyTo(new Span<float>(y + o * cols + c0, w));
                continue;
            }
            sum.Clear();
            for (long r0 = 0; r0 < rows; r0 += ColumnBlock)
            {
                long r1 = Math.Min(rows, r0 + ColumnBlock);
                new ReadOnlySpan<float>(src + r0 * cols, w).CopyTo(acc);
                for (long r = r0 + 1; r < r1; r++) TensorPrimitives.Add(acc, new ReadOnlySpan<float>(src + r * cols, w), acc);
                for (int i = 0; i < w; i++) sum[i] += acc[i];
            }
            float* dst = y + o * cols + c0;
            for (int i = 0; i < w; i++) dst[i] = (float)sum[i];
        }
    }

    private void General(float* x, float* y) =>
        Par.For((int)BufferElements[1], ShapeMath.Elements(_redDims), new Work(this, x, y), static (s, first, last) => s.Kernel.GeneralRange((float*)s.X, (float*)s.Y, first, last));

    private void GeneralRange(float* x, float* y, int first, int last)
    {
        long reducedCount = ShapeMath.Elements(_redDims);
        bool max = _max;
        Span<long> index = stackalloc long[_redDims.Length];
        for (long o = first; o < last; o++)
        {
            long offset = KeptOffset(o);
            index.Clear();
            double acc = max ? double.NegativeInfinity : 0;
            for (long i = 0; i < reducedCount; i++)
            {
                float v = x[offset + ReducedOffset(index)];
                acc = max ? (float.IsNaN(v) || v > acc ? v : acc) : acc + v;
                Advance(index);
            }
            y[o] = (float)acc;
        }
    }

    private void General(int* x, int* y) =>
        Par.For((int)BufferElements[1], ShapeMath.Elements(_redDims), new Work(this, x, y), static (s, first, last) => s.Kernel.GeneralRangeInt((int*)s.X, (int*)s.Y, first, last));

    private void GeneralRangeInt(int* x, int* y, int first, int last)
    {
        long reducedCount = ShapeMath.Elements(_redDims);
        bool max = _max;
        Span<long> index = stackalloc long[_redDims.Length];
        for (long o = first; o < last; o++)
        {
            long offset = KeptOffset(o);
            index.Clear();
            long acc = max ? int.MinValue : 0;
            for (long i = 0; i < reducedCount; i++)
            {
                int v = x[offset + ReducedOffset(index)];
                acc = max ? Math.Max(acc, v) : acc + v;
                Advance(index);
            }
            y[o] = unchecked((int)acc);
        }
    }

    private long KeptOffset(long o)
    {
        long offset = 0;
        for (int d = _keptDims.Length - 1; d >= 0; d--)
        {
            offset += o % _keptDims[d] * _keptStrides[d];
            o /= _keptDims[d];
        }
        return offset;
    }

    private long ReducedOffset(ReadOnlySpan<long> index)
    {
        long offset = 0;
        for (int d = 0; d < index.Length; d++) offset += index[d] * _redStrides[d];
        return offset;
    }

    private void Advance(Span<long> index)
    {
        for (int d = index.Length - 1; d >= 0; d--)
        {
            if (++index[d] < _redDims[d]) return;
            index[d] = 0;
        }
    }
}

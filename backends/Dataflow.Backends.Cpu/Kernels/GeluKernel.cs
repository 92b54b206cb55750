using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using Dataflow.Engine.Backends;

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// tanh-GELU forward (and the bias add before it) over chunks of ~1K elements that stay in L1, parallel
/// over chunks: the fused elementwise program runs the same ten ops with every register a 4K-element
/// tile in L2 and copies its results out; this makes three passes over each chunk in L1 — the polynomial
/// inside tanh, tanh, the product after it — and writes only the stages something reads later straight to
/// their buffers. Each stage is the same float operation the unfused kernels perform (an exact IEEE + or ×,
/// in the same order, and TensorPrimitives' tanh), so both paths give the same bits. Chunks are never
/// shorter than 1024 elements (but for a shorter tensor), so tanh's remainder handling sees the same
/// vector widths as the elementwise kernels' tiles.
/// </summary>
internal sealed unsafe class GeluKernel : CpuKernel
{
    private const int StageCount = (int)GeluStage.Output + 1;
    private const int Chunk = 1024;
    private readonly GeluSpec _spec;
    private readonly int _inputs;
    private readonly int[] _outputOf = new int[StageCount];  // launch buffer of each stage, or -1

    public GeluKernel(GeluSpec spec)
        : base(spec, BufferSizes(spec))
    {
        if (spec.Width <= 0 || spec.Elements > int.MaxValue) throw new NotSupportedException($"cpu: gelu over {spec.Rows}x{spec.Width} elements");
        _spec = spec;
        _inputs = spec.HasBias ? 2 : 1;
        Array.Fill(_outputOf, -1);
        for (int i = 0; i < spec.Outputs.Length; i++) _outputOf[(int)spec.Outputs[i]] = _inputs + i;
    }

    /// <summary>x (or the product and the bias), then every written stage.</summary>
    private static long[] BufferSizes(GeluSpec spec)
    {
        var inputs = spec.HasBias ? new[] { spec.Elements, spec.Width } : [spec.Elements];
        return [.. inputs, .. spec.Outputs.Select(_ => spec.Elements)];
    }

    private readonly struct State(GeluKernel kernel, float* x, float* bias, nint* outputs)
    {
        public readonly GeluKernel Kernel = kernel;
        public readonly float* X = x, Bias = bias;   // x, or the product the bias is added to
        public readonly nint* Outputs = outputs;     // per stage, or zero
    }

    public override void Run(ReadOnlySpan<CpuBuffer> buffers, in LaunchParams launch)
    {
        long n = _spec.Elements;
        if (n == 0) return;
        nint* outputs = stackalloc nint[StageCount];
        for (int s = 0; s < StageCount; s++) outputs[s] = _outputOf[s] < 0 ? 0 : (nint)buffers[_outputOf[s]].Pointer;
        // Ten ops per element, tanh the dearest.
        Par.For(Chunks, 16L * Chunk, new State(this, buffers[0].Pointer, _spec.HasBias ? buffers[1].Pointer : null, outputs),
            static (s, first, last) => s.Kernel.RunChunks(s, first, last));
    }

    /// <summary>Whole chunks; the last one also takes the remainder.</summary>
    private int Chunks => (int)Math.Max(1, _spec.Elements / Chunk);

    private void RunChunks(in State s, int first, int last)
    {
        int chunks = Chunks;
        // Three registers of the longest chunk (the last takes the remainder), for the stages nothing reads: x + bias, tanh's argument, tanh.
        const int register = 2 * Chunk;
        float* scratch = Scratch.ThreadLocal(Scratch.Registers, 3L * register);
        nint* o = s.Outputs;
        long n = _spec.Elements;
        for (int chunk = first; chunk < last; chunk++)
        {
            long start = (long)chunk * Chunk;
            int len = (int)(chunk == chunks - 1 ? n - start : Chunk);
            float* x = s.X + start;
            if (s.Bias is not null)
            {
                x = Stage(o, GeluStage.Biased, start, scratch);
                AddBias(s, start, new Span<float>(x, len));
            }
            var inner = new Span<float>(Stage(o, GeluStage.Inner, start, scratch + register), len);
            Inner(o, start, x, inner);
            var tanh = new Span<float>(Stage(o, GeluStage.Tanh, start, scratch + 2 * register), len);
            TensorPrimitives.Tanh(inner, tanh);
            Output(o, start, x, tanh);
        }
    }

    /// <summary>
    /// inner = (x + (x·x·x)·cubeScale)·innerScale in the unfused ops' order, each step one float multiply or add as
    /// TensorPrimitives forms it: a vector at a time, or one element at a time where a stage between is stored.
    /// </summary>
    private void Inner(nint* o, long start, float* x, Span<float> inner)
    {
        float* square = Stage(o, GeluStage.Square, start), cube = Stage(o, GeluStage.Cube, start);
        float* scaledCube = Stage(o, GeluStage.ScaledCube, start), innerSum = Stage(o, GeluStage.InnerSum, start);
        bool between = square != null || cube != null || scaledCube != null || innerSum != null;
        float cubeScale = _spec.CubeScale, innerScale = _spec.InnerScale;
        fixed (float* to = inner)
        {
            int i = 0;
            if (!between)
            {
                var (vc, vi) = (Vector256.Create(cubeScale), Vector256.Create(innerScale));
                for (; i + 8 <= inner.Length; i += 8)
                {
                    var v = Vector256.Load(x + i);
                    ((v + v * v * v * vc) * vi).Store(to + i);
                }
            }
            for (; i < inner.Length; i++)
            {
                float v = x[i], sq = v * v, cu = sq * v, sc = cu * cubeScale, sum = v + sc;
                if (square != null) square[i] = sq;
                if (cube != null) cube[i] = cu;
                if (scaledCube != null) scaledCube[i] = sc;
                if (innerSum != null) innerSum[i] = sum;
                to[i] = sum * innerScale;
            }
        }
    }

    /// <summary>output = (x·halfScale)·(tanh + one), storing ½·x and 1 + tanh where something reads them.</summary>
    private void Output(nint* o, long start, float* x, Span<float> tanh)
    {
        float* half = Stage(o, GeluStage.Half, start), onePlus = Stage(o, GeluStage.OnePlus, start), output = Stage(o, GeluStage.Output, start);
        float halfScale = _spec.HalfScale, one = _spec.One;
        fixed (float* t = tanh)
        {
            int i = 0;
            if (half == null && onePlus == null && output != null)
            {
                var (vh, v1) = (Vector256.Create(halfScale), Vector256.Create(one));
                for (; i + 8 <= tanh.Length; i += 8) (Vector256.Load(x + i) * vh * (Vector256.Load(t + i) + v1)).Store(output + i);
            }
            for (; i < tanh.Length; i++)
            {
                float h = x[i] * halfScale, p = t[i] + one;
                if (half != null) half[i] = h;
                if (onePlus != null) onePlus[i] = p;
                if (output != null) output[i] = h * p;
            }
        }
    }

    /// <summary>The first element of a stage's output at <paramref name="start"/>, or <paramref name="otherwise"/> (a register, or null) when nothing reads the stage.</summary>
    private static float* Stage(nint* outputs, GeluStage stage, long start, float* otherwise = null) =>
        outputs[(int)stage] != 0 ? (float*)outputs[(int)stage] + start : otherwise;

    /// <summary>a + bias over elements [start, start + x.Length), the bias indexed by the position in its row.</summary>
    private void AddBias(in State s, long start, Span<float> x)
    {
        long width = _spec.Width;
        for (int i = 0; i < x.Length;)
        {
            int column = (int)((start + i) % width);
            int run = (int)Math.Min(width - column, x.Length - i);
            TensorPrimitives.Add(new ReadOnlySpan<float>(s.X + start + i, run), new ReadOnlySpan<float>(s.Bias + column, run), x.Slice(i, run));
            i += run;
        }
    }
}

using System.Numerics.Tensors;
using Dataflow.Engine.Backends;

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// tanh-GELU forward (and the bias add before it) over chunks of ~1K elements that stay in L1, parallel
/// over chunks: the fused elementwise program runs the same ten ops with every register a 4K-element
/// tile in L2 and copies its results out; this passes each chunk through two L1 registers and writes
/// only the stages something reads later straight to their buffers. Each stage is the same float
/// operation the unfused kernels perform (TensorPrimitives' exact + × and its tanh), so both paths give
/// the same bits. Chunks are never shorter than 1024 elements (but for a shorter tensor), so tanh's
/// remainder handling sees the same vector widths as the elementwise kernels' tiles.
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
        // Three registers of the longest chunk (the last takes the remainder): x + bias, the running stage, ½·x.
        const int register = 2 * Chunk;
        float* scratch = Scratch.ThreadLocal(Scratch.Registers, 3L * register);
        nint* o = s.Outputs;
        long n = _spec.Elements;
        for (int chunk = first; chunk < last; chunk++)
        {
            long start = (long)chunk * Chunk;
            int len = (int)(chunk == chunks - 1 ? n - start : Chunk);
            ReadOnlySpan<float> x = s.Bias is null ? new(s.X + start, len) : AddBias(s, start, Row(o, GeluStage.Biased, start, len, scratch));
            var running = scratch + register;
            var square = Row(o, GeluStage.Square, start, len, running);
            TensorPrimitives.Multiply(x, x, square);
            var cube = Row(o, GeluStage.Cube, start, len, running);
            TensorPrimitives.Multiply(square, x, cube);
            var scaledCube = Row(o, GeluStage.ScaledCube, start, len, running);
            TensorPrimitives.Multiply(cube, _spec.CubeScale, scaledCube);
            var innerSum = Row(o, GeluStage.InnerSum, start, len, running);
            TensorPrimitives.Add(x, scaledCube, innerSum);
            var inner = Row(o, GeluStage.Inner, start, len, running);
            TensorPrimitives.Multiply(innerSum, _spec.InnerScale, inner);
            var half = Row(o, GeluStage.Half, start, len, scratch + 2 * register);
            TensorPrimitives.Multiply(x, _spec.HalfScale, half);
            var tanh = Row(o, GeluStage.Tanh, start, len, running);
            TensorPrimitives.Tanh(inner, tanh);
            var onePlus = Row(o, GeluStage.OnePlus, start, len, running);
            TensorPrimitives.Add(tanh, _spec.One, onePlus);
            TensorPrimitives.Multiply(half, onePlus, Row(o, GeluStage.Output, start, len, running));
        }
    }

    /// <summary>a + bias over elements [start, start + x.Length), the bias indexed by the position in its row.</summary>
    private ReadOnlySpan<float> AddBias(in State s, long start, Span<float> x)
    {
        long width = _spec.Width;
        for (int i = 0; i < x.Length;)
        {
            int column = (int)((start + i) % width);
            int run = (int)Math.Min(width - column, x.Length - i);
            TensorPrimitives.Add(new ReadOnlySpan<float>(s.X + start + i, run), new ReadOnlySpan<float>(s.Bias + column, run), x.Slice(i, run));
            i += run;
        }
        return x;
    }

    /// <summary>Elements [start, start + len) of a stage's output, or the register when nothing reads the stage.</summary>
    private static Span<float> Row(nint* outputs, GeluStage stage, long start, int len, float* register) =>
        new(outputs[(int)stage] != 0 ? (float*)outputs[(int)stage] + start : register, len);
}

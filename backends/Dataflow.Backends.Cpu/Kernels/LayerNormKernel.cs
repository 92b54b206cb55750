using System.Numerics.Tensors;
using Dataflow.Engine.Backends;

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// Layer norm forward, one row at a time while the row is in L1, parallel over rows: the eleven
/// unfused ops read and write the activation six times, this reads it once and writes only the
/// stages something reads later. Each stage is the same float operation the unfused kernels perform
/// (row sums as <see cref="ReduceKernel"/> forms them, then TensorPrimitives' exact + − × ÷ √), so
/// both paths give the same bits and seeded runs do not move.
/// </summary>
internal sealed unsafe class LayerNormKernel : CpuKernel
{
    private const int StageCount = (int)LayerNormStage.Output + 1;
    private readonly LayerNormSpec _spec;
    private readonly int[] _outputOf = new int[StageCount];  // launch buffer of each stage, or -1

    public LayerNormKernel(LayerNormSpec spec)
        : base(spec, [spec.Rows * spec.Width, spec.Width, spec.Width, .. spec.Outputs.Select(spec.ElementsOf)])
    {
        if (spec.Width <= 0 || spec.Width > int.MaxValue / 4) throw new NotSupportedException($"cpu: layer_norm rows of {spec.Width} elements");
        _spec = spec;
        Array.Fill(_outputOf, -1);
        for (int i = 0; i < spec.Outputs.Length; i++) _outputOf[(int)spec.Outputs[i]] = 3 + i;
    }

    private readonly struct State(LayerNormKernel kernel, float* x, float* gain, float* bias, nint* outputs)
    {
        public readonly LayerNormKernel Kernel = kernel;
        public readonly float* X = x, Gain = gain, Bias = bias;
        public readonly nint* Outputs = outputs;   // per stage, or zero
    }

    public override void Run(ReadOnlySpan<CpuBuffer> buffers, in LaunchParams launch)
    {
        if (_spec.Rows == 0) return;
        nint* outputs = stackalloc nint[StageCount];
        for (int s = 0; s < StageCount; s++) outputs[s] = _outputOf[s] < 0 ? 0 : (nint)buffers[_outputOf[s]].Pointer;
        // Roughly ten passes over a row of work per row.
        Par.For((int)_spec.Rows, 10 * _spec.Width, new State(this, buffers[0].Pointer, buffers[1].Pointer, buffers[2].Pointer, outputs),
            static (s, first, last) => s.Kernel.RunRows(s, first, last));
    }

    private void RunRows(in State s, int first, int last)
    {
        int d = (int)_spec.Width;
        // Two row registers for the stages nobody reads: the centred row, and the one the others pass through.
        float* scratch = Scratch.ThreadLocal(Scratch.Registers, 2L * d);
        var gain = new ReadOnlySpan<float>(s.Gain, d);
        var bias = new ReadOnlySpan<float>(s.Bias, d);
        nint* o = s.Outputs;
        for (long r = first; r < last; r++)
        {
            var x = new ReadOnlySpan<float>(s.X + r * d, d);
            float meanSum = RowSum(x);
            float mean = meanSum * _spec.MeanScale;
            var centered = Row(o, LayerNormStage.Centered, r, d, scratch);
            TensorPrimitives.Subtract(x, mean, centered);
            var squared = Row(o, LayerNormStage.Squared, r, d, scratch + d);
            TensorPrimitives.Multiply(centered, centered, squared);
            float varianceSum = RowSum(squared);
            float variance = varianceSum * _spec.VarianceScale;
            float shifted = variance + _spec.Epsilon;
            float deviation = MathF.Sqrt(shifted);
            var normalized = Row(o, LayerNormStage.Normalized, r, d, scratch + d);
            TensorPrimitives.Divide(centered, deviation, normalized);
            var scaled = Row(o, LayerNormStage.Scaled, r, d, scratch + d);
            TensorPrimitives.Multiply(normalized, gain, scaled);
            TensorPrimitives.Add(scaled, bias, Row(o, LayerNormStage.Output, r, d, scratch + d));

            Store(o, LayerNormStage.MeanSum, r, meanSum);
            Store(o, LayerNormStage.Mean, r, mean);
            Store(o, LayerNormStage.VarianceSum, r, varianceSum);
            Store(o, LayerNormStage.Variance, r, variance);
            Store(o, LayerNormStage.VariancePlusEpsilon, r, shifted);
            Store(o, LayerNormStage.StandardDeviation, r, deviation);
        }
    }

    /// <summary>Row <paramref name="r"/> of a stage's output, or the register when nothing reads the stage.</summary>
    private static Span<float> Row(nint* outputs, LayerNormStage stage, long r, int d, float* register) =>
        new(outputs[(int)stage] != 0 ? (float*)outputs[(int)stage] + r * d : register, d);

    private static void Store(nint* outputs, LayerNormStage stage, long r, float value)
    {
        if (outputs[(int)stage] != 0) ((float*)outputs[(int)stage])[r] = value;
    }

    /// <summary>A row sum exactly as <see cref="ReduceKernel"/> forms it: float blocks of 4096, totalled in double.</summary>
    internal static float RowSum(ReadOnlySpan<float> row)
    {
        if (row.Length <= ReduceKernel.RowBlock) return TensorPrimitives.Sum(row);
        double total = 0;
        for (int i = 0; i < row.Length; i += ReduceKernel.RowBlock)
            total += TensorPrimitives.Sum(row.Slice(i, Math.Min(ReduceKernel.RowBlock, row.Length - i)));
        return (float)total;
    }
}

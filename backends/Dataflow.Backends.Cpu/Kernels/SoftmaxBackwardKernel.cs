using System.Numerics.Tensors;
using Dataflow.Engine.Backends;

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// Row softmax backward, <c>dx = (g / s + Σ −(g·y / s)) · e</c> as the catalog's rules build it, one row
/// at a time while it is in L1, parallel over rows: the unfused form is two elementwise kernels and a
/// row sum, each streaming the T×T rows again. Every stage is the float operation those kernels
/// perform (TensorPrimitives' × ÷ − +, and the row sum as <see cref="ReduceKernel"/> forms it), so
/// the gradient is theirs to the bit.
/// </summary>
internal sealed unsafe class SoftmaxBackwardKernel : CpuKernel
{
    private const int StageCount = (int)SoftmaxBackwardStage.Output + 1;
    private readonly SoftmaxBackwardSpec _spec;
    private readonly int[] _outputOf = new int[StageCount];  // launch buffer of each stage, or -1

    public SoftmaxBackwardKernel(SoftmaxBackwardSpec spec)
        : base(spec, [spec.Rows * spec.Width, spec.Rows * spec.Width, spec.Rows, spec.Rows * spec.Width, .. spec.Outputs.Select(spec.ElementsOf)])
    {
        if (spec.Width <= 0 || spec.Width > int.MaxValue / 4) throw new NotSupportedException($"cpu: softmax_backward rows of {spec.Width} elements");
        _spec = spec;
        Array.Fill(_outputOf, -1);
        for (int i = 0; i < spec.Outputs.Length; i++) _outputOf[(int)spec.Outputs[i]] = 4 + i;
    }

    private readonly struct State(SoftmaxBackwardKernel kernel, float* g, float* y, float* sums, float* e, nint* outputs)
    {
        public readonly SoftmaxBackwardKernel Kernel = kernel;
        public readonly float* G = g, Y = y, Sums = sums, E = e;
        public readonly nint* Outputs = outputs;   // per stage, or zero
    }

    public override void Run(ReadOnlySpan<CpuBuffer> buffers, in LaunchParams launch)
    {
        if (_spec.Rows == 0) return;
        nint* outputs = stackalloc nint[StageCount];
        for (int s = 0; s < StageCount; s++) outputs[s] = _outputOf[s] < 0 ? 0 : (nint)buffers[_outputOf[s]].Pointer;
        Par.For((int)_spec.Rows, 7 * _spec.Width,
            new State(this, buffers[0].Pointer, buffers[1].Pointer, buffers[2].Pointer, buffers[3].Pointer, outputs),
            static (s, first, last) => s.Kernel.RunRows(s, first, last));
    }

    private void RunRows(in State s, int first, int last)
    {
        int d = (int)_spec.Width;
        // Two row registers for the stages nobody reads: g / s (until it is combined), and the chain g·y → ÷s → −.
        float* scratch = Scratch.ThreadLocal(Scratch.Registers, 2L * d);
        nint* o = s.Outputs;
        for (long r = first; r < last; r++)
        {
            var g = new ReadOnlySpan<float>(s.G + r * d, d);
            var y = new ReadOnlySpan<float>(s.Y + r * d, d);
            var e = new ReadOnlySpan<float>(s.E + r * d, d);
            float sum = s.Sums[r];
            var gradOverSum = Row(o, SoftmaxBackwardStage.GradOverSum, r, d, scratch);
            TensorPrimitives.Divide(g, sum, gradOverSum);
            var product = Row(o, SoftmaxBackwardStage.GradTimesOutput, r, d, scratch + d);
            TensorPrimitives.Multiply(g, y, product);
            var scaled = Row(o, SoftmaxBackwardStage.ScaledBySum, r, d, scratch + d);
            TensorPrimitives.Divide(product, sum, scaled);
            var negated = Row(o, SoftmaxBackwardStage.Negated, r, d, scratch + d);
            TensorPrimitives.Negate(scaled, negated);
            float rowSum = LayerNormKernel.RowSum(negated);
            var combined = Row(o, SoftmaxBackwardStage.Combined, r, d, scratch);
            TensorPrimitives.Add(gradOverSum, rowSum, combined);
            TensorPrimitives.Multiply(combined, e, Row(o, SoftmaxBackwardStage.Output, r, d, scratch + d));
            if (o[(int)SoftmaxBackwardStage.RowSum] != 0) ((float*)o[(int)SoftmaxBackwardStage.RowSum])[r] = rowSum;
        }
    }

    /// <summary>Row <paramref name="r"/> of a stage's output, or the register when nothing reads the stage.</summary>
    private static Span<float> Row(nint* outputs, SoftmaxBackwardStage stage, long r, int d, float* register) =>
        new(outputs[(int)stage] != 0 ? (float*)outputs[(int)stage] + r * d : register, d);
}

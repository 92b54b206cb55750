using System.Numerics.Tensors;
using Dataflow.Engine.Backends;

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// Cross-entropy backward, <c>dx = g·q + (Σ −(g·q)) / s · e</c> as the catalog's rules build it, one row at a
/// time while it is in L1, parallel over rows: the unfused form is elementwise kernels around a row sum and a
/// per-row quotient, each streaming the rows again. Every stage is the float operation those kernels perform
/// (TensorPrimitives' × − ÷ +, and the row sum as <see cref="ReduceKernel"/> forms it), so the gradient is
/// theirs to the bit.
/// </summary>
internal sealed unsafe class CrossEntropyBackwardKernel : CpuKernel
{
    private const int StageCount = (int)CrossEntropyBackwardStage.Output + 1;
    private readonly CrossEntropyBackwardSpec _spec;
    private readonly int[] _outputOf = new int[StageCount];  // launch buffer of each stage, or -1

    public CrossEntropyBackwardKernel(CrossEntropyBackwardSpec spec)
        : base(spec, [spec.GradPerRow ? spec.Rows : 1, spec.Rows * spec.Width, spec.Rows, spec.Rows * spec.Width, .. spec.Outputs.Select(spec.ElementsOf)])
    {
        if (spec.Width <= 0 || spec.Width > int.MaxValue / 12) throw new NotSupportedException($"cpu: cross_entropy_backward rows of {spec.Width} classes");
        _spec = spec;
        Array.Fill(_outputOf, -1);
        for (int i = 0; i < spec.Outputs.Length; i++) _outputOf[(int)spec.Outputs[i]] = 4 + i;
    }

    private readonly struct State(CrossEntropyBackwardKernel kernel, float* g, float* q, float* sums, float* e, nint* outputs)
    {
        public readonly CrossEntropyBackwardKernel Kernel = kernel;
        public readonly float* G = g, Q = q, Sums = sums, E = e;
        public readonly nint* Outputs = outputs;   // per stage, or zero
    }

    public override void Run(ReadOnlySpan<CpuBuffer> buffers, in LaunchParams launch)
    {
        if (_spec.Rows == 0) return;
        nint* outputs = stackalloc nint[StageCount];
        for (int s = 0; s < StageCount; s++) outputs[s] = _outputOf[s] < 0 ? 0 : (nint)buffers[_outputOf[s]].Pointer;
        Par.For((int)_spec.Rows, 6 * _spec.Width,
            new State(this, buffers[0].Pointer, buffers[1].Pointer, buffers[2].Pointer, buffers[3].Pointer, outputs),
            static (s, first, last) => s.Kernel.RunRows(s, first, last));
    }

    private void RunRows(in State s, int first, int last)
    {
        int d = (int)_spec.Width;
        // Three row registers for the stages nobody reads: g·q (until it is combined), −g·q, and the scaled e.
        float* scratch = Scratch.ThreadLocal(Scratch.Registers, 3L * d);
        nint* o = s.Outputs;
        for (long r = first; r < last; r++)
        {
            var q = new ReadOnlySpan<float>(s.Q + r * d, d);
            var e = new ReadOnlySpan<float>(s.E + r * d, d);
            float g = s.G[_spec.GradPerRow ? r : 0];
            var gradLogProbs = Row(o, CrossEntropyBackwardStage.GradLogProbs, r, d, scratch);
            TensorPrimitives.Multiply(q, g, gradLogProbs);
            var negated = Row(o, CrossEntropyBackwardStage.Negated, r, d, scratch + d);
            TensorPrimitives.Negate(gradLogProbs, negated);
            float rowSum = LayerNormKernel.RowSum(negated);
            float overSum = rowSum / s.Sums[r];
            var scaled = Row(o, CrossEntropyBackwardStage.Scaled, r, d, scratch + 2 * d);
            TensorPrimitives.Multiply(e, overSum, scaled);
            TensorPrimitives.Add(gradLogProbs, scaled, Row(o, CrossEntropyBackwardStage.Output, r, d, scratch + 2 * d));
            Store(o, CrossEntropyBackwardStage.RowSum, r, rowSum);
            Store(o, CrossEntropyBackwardStage.OverSum, r, overSum);
        }
    }

    /// <summary>Row <paramref name="r"/> of a stage's output, or the register when nothing reads the stage.</summary>
    private static Span<float> Row(nint* outputs, CrossEntropyBackwardStage stage, long r, int d, float* register) =>
        new(outputs[(int)stage] != 0 ? (float*)outputs[(int)stage] + r * d : register, d);

    private static void Store(nint* outputs, CrossEntropyBackwardStage stage, long r, float value)
    {
        if (outputs[(int)stage] != 0) ((float*)outputs[(int)stage])[r] = value;
    }
}

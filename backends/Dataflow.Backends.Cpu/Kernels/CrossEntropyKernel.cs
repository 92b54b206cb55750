using System.Numerics.Tensors;
using Dataflow.Engine.Backends;

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// Cross-entropy from logits, one row at a time while it is in L1, parallel over rows: the unfused
/// reduce_max, x − max, exp, row sum, log, subtraction, one_hot, product and sum are seven kernels that
/// stream the logits again and again; this reads them once and writes only the stages something reads later
/// (the backward reads e, Σe and the one-hot rows). Each row stage is the float operation the unfused kernels
/// perform (TensorPrimitives' max, −, exp, log, ×, and row sums as <see cref="ReduceKernel"/> forms them), so
/// e, Σe and a per-row result are theirs to the bit; a total over all rows adds the rows' sums in order in
/// double, where the unfused reduce sums the whole product tensor in blocks (the loss may move in its last bits,
/// never the gradient, which reads e and Σe).
/// </summary>
internal sealed unsafe class CrossEntropyKernel : CpuKernel
{
    private const int StageCount = (int)CrossEntropyStage.Output + 1;
    private const int RowRegisters = 5;   // x − max, e, log-probabilities, one-hot, product
    private readonly CrossEntropySpec _spec;
    private readonly int[] _outputOf = new int[StageCount];  // launch buffer of each stage, or -1

    public CrossEntropyKernel(CrossEntropySpec spec)
        : base(spec, [spec.Rows * spec.Width, spec.Rows, .. spec.Outputs.Select(spec.ElementsOf)])
    {
        if (spec.Width <= 0 || spec.Width > int.MaxValue / (4 * RowRegisters)) throw new NotSupportedException($"cpu: cross_entropy rows of {spec.Width} classes");
        _spec = spec;
        Array.Fill(_outputOf, -1);
        for (int i = 0; i < spec.Outputs.Length; i++) _outputOf[(int)spec.Outputs[i]] = 2 + i;
    }

    private readonly struct State(CrossEntropyKernel kernel, float* x, int* targets, float* picked, nint* outputs)
    {
        public readonly CrossEntropyKernel Kernel = kernel;
        public readonly float* X = x;
        public readonly int* Targets = targets;
        public readonly float* Picked = picked;    // one per row
        public readonly nint* Outputs = outputs;   // per stage, or zero
    }

    public override void Run(ReadOnlySpan<CpuBuffer> buffers, in LaunchParams launch)
    {
        long rows = _spec.Rows;
        nint* outputs = stackalloc nint[StageCount];
        for (int s = 0; s < StageCount; s++) outputs[s] = _outputOf[s] < 0 ? 0 : (nint)buffers[_outputOf[s]].Pointer;
        float* output = (float*)outputs[(int)CrossEntropyStage.Output];
        if (rows == 0)
        {
            if (!_spec.PerRow) *output = 0;
            return;
        }
        // Per-row results go straight out, or to this thread's block to be totalled in row order (whatever the threads).
        float* picked = _spec.PerRow ? output : Scratch.ThreadLocal(Scratch.Scores, rows);
        // About ten passes over a row, exp the dearest.
        Par.For((int)rows, 10 * _spec.Width, new State(this, buffers[0].Pointer, (int*)buffers[1].Pointer, picked, outputs),
            static (s, first, last) => s.Kernel.RunRows(s, first, last));
        if (_spec.PerRow) return;
        double total = 0;
        for (long r = 0; r < rows; r++) total += picked[r];
        *output = (float)total;
    }

    private void RunRows(in State s, int first, int last)
    {
        int d = (int)_spec.Width;
        // Row registers for the stages nobody reads.
        float* scratch = Scratch.ThreadLocal(Scratch.Registers, (long)RowRegisters * d);
        nint* o = s.Outputs;
        for (long r = first; r < last; r++)
        {
            var x = new ReadOnlySpan<float>(s.X + r * d, d);
            float max = TensorPrimitives.Max(x);
            var shifted = Row(o, CrossEntropyStage.Shifted, r, d, scratch);
            TensorPrimitives.Subtract(x, max, shifted);
            var e = Row(o, CrossEntropyStage.Exp, r, d, scratch + d);
            TensorPrimitives.Exp(shifted, e);
            float sum = LayerNormKernel.RowSum(e);
            float logSum = 0;
            TensorPrimitives.Log(new ReadOnlySpan<float>(&sum, 1), new Span<float>(&logSum, 1));
            var logProbs = Row(o, CrossEntropyStage.LogProbs, r, d, scratch + 2 * d);
            TensorPrimitives.Subtract(shifted, logSum, logProbs);
            var oneHot = Row(o, CrossEntropyStage.OneHot, r, d, scratch + 3 * d);
            oneHot.Clear();
            int target = s.Targets[r];
            if (target >= 0 && target < d) oneHot[target] = 1f;   // an out-of-range target gives a zero row, as one_hot does
            var product = Row(o, CrossEntropyStage.Picked, r, d, scratch + 4 * d);
            TensorPrimitives.Multiply(oneHot, logProbs, product);
            s.Picked[r] = LayerNormKernel.RowSum(product);
            Store(o, CrossEntropyStage.Max, r, max);
            Store(o, CrossEntropyStage.Sum, r, sum);
            Store(o, CrossEntropyStage.LogSum, r, logSum);
        }
    }

    /// <summary>Row <paramref name="r"/> of a stage's output, or the register when nothing reads the stage.</summary>
    private static Span<float> Row(nint* outputs, CrossEntropyStage stage, long r, int d, float* register) =>
        new(outputs[(int)stage] != 0 ? (float*)outputs[(int)stage] + r * d : register, d);

    private static void Store(nint* outputs, CrossEntropyStage stage, long r, float value)
    {
        if (outputs[(int)stage] != 0) ((float*)outputs[(int)stage])[r] = value;
    }
}

using System.Numerics.Tensors;
using Dataflow.Engine.Backends;

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// Row softmax forward, one row at a time while it is in L1, parallel over rows: the unfused
/// reduce_max, exp(x − max), reduce_sum and divide read and write the T×T scores four times, this
/// reads them once and writes only the stages something reads later (the backward reads e, Σe and y).
/// Each stage is the same float operation the unfused kernels perform (TensorPrimitives' max, − , exp,
/// ÷, and row sums as <see cref="ReduceKernel"/> forms them), so both paths give the same bits.
/// </summary>
internal sealed unsafe class SoftmaxKernel : CpuKernel
{
    private const int StageCount = (int)SoftmaxStage.Output + 1;
    private readonly SoftmaxSpec _spec;
    private readonly int[] _outputOf = new int[StageCount];  // launch buffer of each stage, or -1

    public SoftmaxKernel(SoftmaxSpec spec)
        : base(spec, [spec.Rows * spec.Width, .. spec.Outputs.Select(spec.ElementsOf)])
    {
        if (spec.Width <= 0 || spec.Width > int.MaxValue / 4) throw new NotSupportedException($"cpu: softmax rows of {spec.Width} elements");
        _spec = spec;
        Array.Fill(_outputOf, -1);
        for (int i = 0; i < spec.Outputs.Length; i++) _outputOf[(int)spec.Outputs[i]] = 1 + i;
    }

    private readonly struct State(SoftmaxKernel kernel, float* x, nint* outputs)
    {
        public readonly SoftmaxKernel Kernel = kernel;
        public readonly float* X = x;
        public readonly nint* Outputs = outputs;   // per stage, or zero
    }

    public override void Run(ReadOnlySpan<CpuBuffer> buffers, in LaunchParams launch)
    {
        if (_spec.Rows == 0) return;
        nint* outputs = stackalloc nint[StageCount];
        for (int s = 0; s < StageCount; s++) outputs[s] = _outputOf[s] < 0 ? 0 : (nint)buffers[_outputOf[s]].Pointer;
        // Roughly five passes over a row per row, exp the dearest.
        Par.For((int)_spec.Rows, 8 * _spec.Width, new State(this, buffers[0].Pointer, outputs),
            static (s, first, last) => s.Kernel.RunRows(s, first, last));
    }

    private void RunRows(in State s, int first, int last)
    {
        int d = (int)_spec.Width;
        // One row register for the stages nobody reads (x − max and e pass through it in place).
        float* scratch = Scratch.ThreadLocal(Scratch.Registers, d);
        nint* o = s.Outputs;
        for (long r = first; r < last; r++)
        {
            var x = new ReadOnlySpan<float>(s.X + r * d, d);
            float max = TensorPrimitives.Max(x);
            var shifted = Row(o, SoftmaxStage.Shifted, r, d, scratch);
            TensorPrimitives.Subtract(x, max, shifted);
            var e = Row(o, SoftmaxStage.Exp, r, d, scratch);
            TensorPrimitives.Exp(shifted, e);
            float sum = LayerNormKernel.RowSum(e);
            TensorPrimitives.Divide(e, sum, Row(o, SoftmaxStage.Output, r, d, scratch));
            Store(o, SoftmaxStage.Max, r, max);
            Store(o, SoftmaxStage.Sum, r, sum);
        }
    }

    /// <summary>Row <paramref name="r"/> of a stage's output, or the register when nothing reads the stage.</summary>
    private static Span<float> Row(nint* outputs, SoftmaxStage stage, long r, int d, float* register) =>
        new(outputs[(int)stage] != 0 ? (float*)outputs[(int)stage] + r * d : register, d);

    private static void Store(nint* outputs, SoftmaxStage stage, long r, float value)
    {
        if (outputs[(int)stage] != 0) ((float*)outputs[(int)stage])[r] = value;
    }
}

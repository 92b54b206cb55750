using System.Runtime.Intrinsics.X86;
using Dataflow.Engine.Backends;

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// MatMul with optional transposes and NumPy batch broadcasting, lowered to <see cref="Gemm"/>:
/// transposes become strides, broadcast batch dims become per-batch offsets (0 stride), and the
/// common [B, T, K] · [K, N] of linear layers folds the batch into M for one tall GEMM.
/// </summary>
internal sealed unsafe class MatMulKernel : CpuKernel
{
    private readonly int _batch, _m, _n, _k;
    private readonly Gemm.Operand _a, _b;

    public MatMulKernel(OpKernelSpec spec) : base(spec, [spec.Inputs[0].Elements, spec.Inputs[1].Elements, spec.Output.Elements])
    {
        var (x, y, z) = (spec.Inputs[0].Shape, spec.Inputs[1].Shape, spec.Output.Shape);
        bool ta = spec.Attrs.TransposeA, tb = spec.Attrs.TransposeB;
        int m = (int)z[^2], n = (int)z[^1];
        int k = (int)(ta ? x[^2] : x[^1]);
        var batchShape = z[..^2];
        int batch = (int)ShapeMath.Elements(batchShape);

        long[]? aOffsets = BatchOffsets(x[..^2], batchShape, (long)m * k);
        long[]? bOffsets = BatchOffsets(y[..^2], batchShape, (long)k * n);
        // A is [.., M, K] (or [.., K, M] transposed); B is [.., K, N] (or [.., N, K] transposed).
        var a = ta ? new Gemm.Operand(aOffsets, 1, m) : new Gemm.Operand(aOffsets, k, 1);
        var b = tb ? new Gemm.Operand(bOffsets, 1, k) : new Gemm.Operand(bOffsets, n, 1);

        // One shared B and a batch of row-major A matrices laid end to end: that is just a taller A.
        if (batch > 1 && !ta && bOffsets is null && aOffsets is not null && IsContiguous(aOffsets, (long)m * k))
        {
            m *= batch;
            batch = 1;
            a = new Gemm.Operand(null, k, 1);
        }
        (_batch, _m, _n, _k, _a, _b) = (batch, m, n, k, a, b);
    }

    /// <summary>
    /// A weight with a decode copy (<see cref="CpuBuffer.Decode"/>) is read from it by the streaming few-row
    /// paths (a decode step), from its panels where a batched step has 8 to 16 rows (<see cref="GemvPanels"/>);
    /// everything else (the packed GEMM of a prefill) reads the f32 values.
    /// </summary>
    public override void Run(ReadOnlySpan<CpuBuffer> buffers, in LaunchParams launch)
    {
        if (_batch == 1 && _a.Offsets is null && _a.ColStride == 1 && _k > 0 && _n > 0 && GemvPanels.Applies(_m) && buffers[1].PanelsFor(_b, _k, _n) is { } panels)
        {
            GemvPanels.Run(_m, _n, _k, buffers[0].Pointer, _a.RowStride, panels, buffers[2].Pointer);
            return;
        }
        var copy = buffers[1].Decode;
        if (copy is not null && _b.Offsets is null && _batch > 0 && _m > 0 && _n > 0 && _k > 0 && Avx2.IsSupported && Fma.IsSupported)
        {
            var read = copy.Read(_b);
            if (Gemv.Applies(_m, _n, _k, _a, read))
            {
                Gemv.Run(_batch, _m, _n, _k, buffers[0].Pointer, _a, copy.F32Words, read, copy.Bf16Words, buffers[2].Pointer);
                return;
            }
        }
        Gemm.Run(_batch, _m, _n, _k, buffers[0].Pointer, _a, buffers[1].Pointer, _b, buffers[2].Pointer);
    }

    /// <summary>Element offset of each output batch's matrix in an operand; null when all are 0 (broadcast or no batch).</summary>
    private static long[]? BatchOffsets(long[] operandBatch, long[] outputBatch, long matrixSize)
    {
        var strides = TensorLayout.BroadcastStrides(operandBatch, outputBatch);
        long count = ShapeMath.Elements(outputBatch);
        var offsets = new long[count];
        bool any = false;
        for (long i = 0; i < count; i++)
        {
            long rest = i, offset = 0;
            for (int d = outputBatch.Length - 1; d >= 0; d--)
            {
                offset += rest % outputBatch[d] * strides[d];
                rest /= outputBatch[d];
            }
            offsets[i] = offset * matrixSize;
            any |= offset != 0;
        }
        return any ? offsets : null;
    }

    private static bool IsContiguous(long[] offsets, long size)
    {
        for (int i = 0; i < offsets.Length; i++) if (offsets[i] != i * size) return false;
        return true;
    }
}

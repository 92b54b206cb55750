using System.Numerics.Tensors;
using Dataflow.Engine.Backends;

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// Scaled dot-product attention forward (<see cref="AttentionSpec"/>), parallel over batch·head slices,
/// one query row at a time, with an online softmax over blocks of keys: each block's scores live
/// in a few registers' worth of scratch, the running maximum rescales the running sum and the weighted
/// values when it grows, so no row of T×S probabilities is ever stored. Causal rows stop at their own
/// position, which skips every fully masked block (and the masked part of the diagonal one).
/// </summary>
internal sealed unsafe class AttentionKernel : CpuKernel
{
    /// <summary>Keys per online-softmax block: their scores stay in L1 beside the output row.</summary>
    private const int Block = 32;

    private readonly AttentionSpec _spec;

    public AttentionKernel(AttentionSpec spec)
        : base(spec, Buffers(spec))
    {
        AttentionRows.CheckSizes("attention", spec.BatchHeads, spec.Queries, spec.Keys, spec.Width);
        _spec = spec;
    }

    private static long[] Buffers(AttentionSpec s)
    {
        long rows = s.BatchHeads * s.Queries, keys = s.BatchHeads * s.Keys * s.Width;
        return s.WritesRowStatistics ? [rows * s.Width, keys, keys, rows * s.Width, rows, rows] : [rows * s.Width, keys, keys, rows * s.Width];
    }

    private readonly struct State(AttentionKernel kernel, float* q, float* k, float* v, float* output, float* max, float* sum)
    {
        public readonly AttentionKernel Kernel = kernel;
        public readonly float* Q = q, K = k, V = v, Output = output, Max = max, Sum = sum;
    }

    public override void Run(ReadOnlySpan<CpuBuffer> buffers, in LaunchParams launch)
    {
        if (_spec.BatchHeads * _spec.Queries == 0) return;
        bool stats = _spec.WritesRowStatistics;
        var state = new State(this, buffers[0].Pointer, buffers[1].Pointer, buffers[2].Pointer, buffers[3].Pointer,
            stats ? buffers[4].Pointer : null, stats ? buffers[5].Pointer : null);
        // Per slice: a score and a weighted add of the width per (query, visible key), and an exp.
        long visible = _spec.Causal ? (_spec.Keys + 1) / 2 : _spec.Keys;
        Par.For((int)_spec.BatchHeads, _spec.Queries * visible * (4 * _spec.Width + 8), state, static (s, first, last) => s.Kernel.RunSlices(s, first, last));
    }

    private void RunSlices(in State s, int first, int last)
    {
        int w = (int)_spec.Width, queries = (int)_spec.Queries, keys = (int)_spec.Keys;
        float scale = _spec.Scale;
        // Kᵀ of the slice [w, S], so a block's scores are w scaled adds along its keys (no horizontal sum per key).
        float* keysT = Scratch.ThreadLocal(Scratch.Scores, (long)w * keys + Block);
        float* scores = keysT + (long)w * keys;
        for (int bh = first; bh < last; bh++)
        {
            float* k = s.K + (long)bh * keys * w, v = s.V + (long)bh * keys * w;
            for (int j = 0; j < keys; j++)
                for (int c = 0; c < w; c++) keysT[(long)c * keys + j] = k[(long)j * w + c];
            for (int i = 0; i < queries; i++)
            {
                long row = (long)bh * queries + i;
                float* q = s.Q + row * w, output = s.Output + row * w;
                int visible = _spec.Causal ? Math.Min(i + 1, keys) : keys;
                new Span<float>(output, w).Clear();
                float max = float.NegativeInfinity, sum = 0;
                for (int j0 = 0; j0 < visible; j0 += Block)
                {
                    int n = Math.Min(Block, visible - j0);
                    var block = new Span<float>(scores, n);
                    block.Clear();
                    for (int c = 0; c < w; c++) AttentionRows.AddScaled(scores, keysT + (long)c * keys + j0, q[c], n);
                    TensorPrimitives.Multiply(block, scale, block);
                    float blockMax = TensorPrimitives.Max(block);
                    if (blockMax > max)
                    {
                        // The running maximum grew: what was summed so far was relative to the old one.
                        if (sum != 0)
                        {
                            float rescale = MathF.Exp(max - blockMax);
                            sum *= rescale;
                            AttentionRows.Scale(output, rescale, w);
                        }
                        max = blockMax;
                    }
                    TensorPrimitives.Subtract(block, max, block);
                    TensorPrimitives.Exp(block, block);
                    sum += TensorPrimitives.Sum(block);
                    for (int j = 0; j < n; j++) AttentionRows.AddScaled(output, v + (long)(j0 + j) * w, scores[j], w);
                }
                AttentionRows.Scale(output, 1 / sum, w);
                if (s.Max != null)
                {
                    s.Max[row] = max;
                    s.Sum[row] = sum;
                }
            }
        }
    }
}

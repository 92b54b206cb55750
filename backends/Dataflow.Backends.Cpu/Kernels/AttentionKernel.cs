using Dataflow.Engine.Backends;

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// Scaled dot-product attention forward (<see cref="AttentionSpec"/>), one query row at a time, parallel
/// over all batch·head·query rows, with an online softmax over blocks of keys: each block's scores live
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
        if (spec.Width <= 0 || spec.Width > int.MaxValue / 4 || spec.Keys > int.MaxValue || spec.BatchHeads * spec.Queries > int.MaxValue)
            throw new NotSupportedException($"cpu: attention of {spec.BatchHeads}x{spec.Queries}x{spec.Keys}x{spec.Width}");
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
        long rows = _spec.BatchHeads * _spec.Queries;
        if (rows == 0) return;
        bool stats = _spec.WritesRowStatistics;
        var state = new State(this, buffers[0].Pointer, buffers[1].Pointer, buffers[2].Pointer, buffers[3].Pointer,
            stats ? buffers[4].Pointer : null, stats ? buffers[5].Pointer : null);
        // Per row: a dot product and a weighted add of the width per visible key, and an exp.
        long visible = _spec.Causal ? (_spec.Keys + 1) / 2 : _spec.Keys;
        Par.For((int)rows, visible * (4 * _spec.Width + 8), state, static (s, first, last) => s.Kernel.RunRows(s, first, last));
    }

    private void RunRows(in State s, int first, int last)
    {
        int w = (int)_spec.Width, queries = (int)_spec.Queries, keys = (int)_spec.Keys;
        float scale = _spec.Scale;
        float* scores = Scratch.ThreadLocal(Scratch.Scores, Block);
        for (int row = first; row < last; row++)
        {
            int bh = row / queries, i = row % queries;
            float* q = s.Q + (long)row * w, output = s.Output + (long)row * w;
            float* k = s.K + (long)bh * keys * w, v = s.V + (long)bh * keys * w;
            int visible = _spec.Causal ? Math.Min(i + 1, keys) : keys;
            new Span<float>(output, w).Clear();
            float max = float.NegativeInfinity, sum = 0;
            for (int j0 = 0; j0 < visible; j0 += Block)
            {
                int n = Math.Min(Block, visible - j0);
                float blockMax = float.NegativeInfinity;
                for (int j = 0; j < n; j++)
                {
                    float score = AttentionRows.Dot(q, k + (long)(j0 + j) * w, w) * scale;
                    scores[j] = score;
                    blockMax = MathF.Max(blockMax, score);
                }
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
                for (int j = 0; j < n; j++)
                {
                    float p = MathF.Exp(scores[j] - max);
                    sum += p;
                    AttentionRows.AddScaled(output, v + (long)(j0 + j) * w, p, w);
                }
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

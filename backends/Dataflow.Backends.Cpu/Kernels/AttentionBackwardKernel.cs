using System.Numerics.Tensors;
using Dataflow.Engine.Backends;

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// The gradient of <see cref="AttentionKernel"/> by recomputation (<see cref="AttentionBackwardSpec"/>),
/// parallel over batch·head slices (each owns its dK and dV rows, so nothing is shared between threads).
/// For each query row i the probabilities are formed again, p_j = exp(s_j − max_i) / Σ_i with the row
/// statistics the forward wrote, and with D_i = dO_i·O_i (= Σ_j p_j·(dO_i·v_j), the softmax gradient's row sum):
/// <code>
/// dV_j += p_j·dO_i;   dS_j = p_j·(dO_i·v_j − D_i)·scale;   dQ_i += dS_j·k_j;   dK_j += dS_j·q_i
/// </code>
/// over the visible keys only (a causal row stops at its own position).
/// </summary>
internal sealed unsafe class AttentionBackwardKernel : CpuKernel
{
    private readonly AttentionBackwardSpec _spec;

    public AttentionBackwardKernel(AttentionBackwardSpec spec)
        : base(spec, Buffers(spec))
    {
        AttentionRows.CheckSizes("attention_backward", spec.BatchHeads, spec.Queries, spec.Keys, spec.Width);
        _spec = spec;
    }

    private static long[] Buffers(AttentionBackwardSpec s)
    {
        long rows = s.BatchHeads * s.Queries, queries = rows * s.Width, keys = s.BatchHeads * s.Keys * s.Width;
        // q, k, v, output, dO, row max, row sum; dQ, dK, dV.
        return [queries, keys, keys, queries, queries, rows, rows, queries, keys, keys];
    }

    private readonly struct State(AttentionBackwardKernel kernel, ReadOnlySpan<CpuBuffer> b)
    {
        public readonly AttentionBackwardKernel Kernel = kernel;
        public readonly float* Q = b[0].Pointer, K = b[1].Pointer, V = b[2].Pointer, Output = b[3].Pointer, GradOutput = b[4].Pointer;
        public readonly float* Max = b[5].Pointer, Sum = b[6].Pointer;
        public readonly float* GradQ = b[7].Pointer, GradK = b[8].Pointer, GradV = b[9].Pointer;
    }

    public override void Run(ReadOnlySpan<CpuBuffer> buffers, in LaunchParams launch)
    {
        if (_spec.BatchHeads == 0) return;
        long visible = _spec.Causal ? (_spec.Keys + 1) / 2 : _spec.Keys;
        // Per slice: two dot products and three weighted adds of the width per (query, visible key).
        Par.For((int)_spec.BatchHeads, _spec.Queries * visible * (10 * _spec.Width + 8), new State(this, buffers),
            static (s, first, last) => s.Kernel.RunSlices(s, first, last));
    }

    private void RunSlices(in State s, int first, int last)
    {
        int w = (int)_spec.Width, queries = (int)_spec.Queries, keys = (int)_spec.Keys;
        float scale = _spec.Scale;
        // Kᵀ and Vᵀ of the slice [w, S], so a row of scores or of dO·vⱼ is w scaled adds along the keys (no
        // horizontal sum per key), and two rows over the keys: the probabilities, then dP and dS in place.
        float* scratch = Scratch.ThreadLocal(Scratch.Scores, 2L * w * keys + 2L * keys);
        float* keysT = scratch, valuesT = scratch + (long)w * keys, p = valuesT + (long)w * keys, gradScore = p + keys;
        for (int bh = first; bh < last; bh++)
        {
            long keyBase = (long)bh * keys * w;
            float* k = s.K + keyBase, v = s.V + keyBase, gradK = s.GradK + keyBase, gradV = s.GradV + keyBase;
            for (int j = 0; j < keys; j++)
                for (int c = 0; c < w; c++)
                {
                    keysT[(long)c * keys + j] = k[(long)j * w + c];
                    valuesT[(long)c * keys + j] = v[(long)j * w + c];
                }
            new Span<float>(gradK, keys * w).Clear();
            new Span<float>(gradV, keys * w).Clear();
            for (int i = 0; i < queries; i++)
            {
                long row = (long)bh * queries + i;
                float* q = s.Q + row * w, gradOut = s.GradOutput + row * w, gradQ = s.GradQ + row * w;
                int visible = _spec.Causal ? Math.Min(i + 1, keys) : keys;
                var probabilities = new Span<float>(p, visible);
                var gradScores = new Span<float>(gradScore, visible);
                probabilities.Clear();
                gradScores.Clear();
                for (int c = 0; c < w; c++)
                {
                    AttentionRows.AddScaled(p, keysT + (long)c * keys, q[c], visible);
                    AttentionRows.AddScaled(gradScore, valuesT + (long)c * keys, gradOut[c], visible);
                }
                // p = exp(s·scale − max) / Σ, as the forward formed it; dS = p·(dP − D)·scale.
                TensorPrimitives.Multiply(probabilities, scale, probabilities);
                TensorPrimitives.Subtract(probabilities, s.Max[row], probabilities);
                TensorPrimitives.Exp(probabilities, probabilities);
                TensorPrimitives.Multiply(probabilities, 1 / s.Sum[row], probabilities);
                TensorPrimitives.Subtract(gradScores, AttentionRows.Dot(gradOut, s.Output + row * w, w), gradScores);
                TensorPrimitives.Multiply(gradScores, probabilities, gradScores);
                TensorPrimitives.Multiply(gradScores, scale, gradScores);
                new Span<float>(gradQ, w).Clear();
                for (int j = 0; j < visible; j++)
                {
                    AttentionRows.AddScaled(gradV + (long)j * w, gradOut, p[j], w);
                    AttentionRows.AddScaled(gradQ, k + (long)j * w, gradScore[j], w);
                    AttentionRows.AddScaled(gradK + (long)j * w, q, gradScore[j], w);
                }
            }
        }
    }
}

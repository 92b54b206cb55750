using System.Runtime.CompilerServices;
using Dataflow.Engine.Backends;

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// The gradient of <see cref="AttentionKernel"/> by recomputation (<see cref="AttentionBackwardSpec"/>), parallel over
/// batch·head slices (each owns its dK and dV rows, so nothing is shared between threads), in the forward's blocks:
/// per query block and visible key block, the scores and dP = dO·Vᵀ are two register-tiled products into L1 tiles,
/// the probabilities are formed again from the row statistics the forward wrote, p = exp(s·scale − max) / Σ, and
/// with D_i = dO_i·O_i (= Σ_j p_j·dP_j, the softmax gradient's row sum) dS = p·(dP − D)·scale; then
/// <code>
/// dQ += dS·K;   dK += dSᵀ·Q;   dV += Pᵀ·dO
/// </code>
/// as three more products, the last two reading the tiles along their keys. No T×S matrix is stored.
/// </summary>
internal sealed unsafe class AttentionBackwardKernel : CpuKernel
{
    private readonly AttentionBackwardSpec _spec;
    private readonly AttentionTiles _tiles;

    public AttentionBackwardKernel(AttentionBackwardSpec spec) : this(spec, AttentionTiles.Best) { }

    /// <summary>With the tiles of one instruction set (the tests run both on any machine).</summary>
    internal AttentionBackwardKernel(AttentionBackwardSpec spec, AttentionTiles tiles)
        : base(spec, Buffers(spec))
    {
        AttentionRows.CheckSizes("attention_backward", spec.BatchHeads, spec.Queries, spec.Keys, spec.Width);
        _spec = spec;
        _tiles = tiles;
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

    // Optimized at once: a tier-0 body (no inlining of the tiles' vector helpers) runs the first steps several times slower.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RunSlices(in State s, int first, int last)
    {
        var tiles = _tiles;
        int w = (int)_spec.Width, queries = (int)_spec.Queries, keys = (int)_spec.Keys;
        int block = tiles.QueryBlock, keyBlock = AttentionTiles.KeyBlock;
        int paddedWidth = AttentionTiles.RoundUp(w, tiles.Lanes), paddedKeys = AttentionTiles.RoundUp(keys, keyBlock);
        float scale = _spec.Scale;
        // Where the width is whole vectors a padded row is its source row, and the products that take K, Q and dO as B
        // read only real rows (depth = keys or queries seen): they read the slice's own rows, with no copy.
        bool whole = paddedWidth == w;
        // Per slice: Kᵀ and Vᵀ [w, S'] (the A of the scores and of dP), K padded [S', w'] (dQ's B), the dK and dV
        // accumulators [S', w']. Per query block: Qᵀ and dOᵀ [w, block] (the B of the scores and of dP), Q and dO padded
        // [block, w'] (the B of dK and dV), the dQ accumulator [block, w'], the two tiles, and per lane max, 1/Σ and D.
        long kT = (long)w * paddedKeys, kp = (long)paddedKeys * paddedWidth, qT = (long)w * block, qp = (long)block * paddedWidth;
        long tile = (long)keyBlock * block;
        float* keysT = Scratch.ThreadLocal(Scratch.Scores, 2 * kT + 3 * kp + 3 * qT + 3 * qp + 2 * tile + 3L * block);
        float* valuesT = keysT + kT, keysPadded = valuesT + kT, gradK = keysPadded + kp, gradV = gradK + kp;
        float* queriesT = gradV + kp, gradOutT = queriesT + qT, outputT = gradOutT + qT, queriesPadded = outputT + qT, gradOutPadded = queriesPadded + qp, gradQ = gradOutPadded + qp;
        float* scores = gradQ + qp, gradScores = scores + tile, max = gradScores + tile, inverseSum = max + block, rowDot = inverseSum + block;
        for (int bh = first; bh < last; bh++)
        {
            long keyBase = (long)bh * keys * w;
            float* k = s.K + keyBase, v = s.V + keyBase;
            AttentionRows.Transpose(k, keys, w, w, keysT, paddedKeys, paddedKeys);
            AttentionRows.Transpose(v, keys, w, w, valuesT, paddedKeys, paddedKeys);
            float* keysB = whole ? k : keysPadded;
            if (!whole) AttentionRows.CopyPadded(k, keys, w, keysPadded, paddedWidth, paddedKeys);
            new Span<float>(gradK, (int)(2 * kp)).Clear();
            for (int i0 = 0; i0 < queries; i0 += block)
            {
                int rows = Math.Min(block, queries - i0);
                long row0 = (long)bh * queries + i0;
                float* q = s.Q + row0 * w, gradOut = s.GradOutput + row0 * w;
                AttentionRows.Transpose(q, rows, w, w, queriesT, block, block);
                AttentionRows.Transpose(gradOut, rows, w, w, gradOutT, block, block);
                float* queriesB = whole ? q : queriesPadded, gradOutB = whole ? gradOut : gradOutPadded;
                if (!whole)
                {
                    AttentionRows.CopyPadded(q, rows, w, queriesPadded, paddedWidth, block);
                    AttentionRows.CopyPadded(gradOut, rows, w, gradOutPadded, paddedWidth, block);
                }
                new Span<float>(gradQ, (int)qp).Clear();
                // Lanes past the last query are masked in the tiles; their statistics only need to be finite.
                for (int r = 0; r < block; r++)
                {
                    bool real = r < rows;
                    max[r] = real ? s.Max[row0 + r] : 0;
                    inverseSum[r] = real ? 1 / s.Sum[row0 + r] : 0;
                }
                // D = dO·O per lane, summed over the width in the order the tile sums dP = dO·vⱼ: where a row sees one
                // key (T = 1, a causal slice's first row) O is that vⱼ exactly and dP − D is exactly 0, like the
                // softmax gradient's own (a reference of all zeros admits no rounding).
                AttentionRows.Transpose(s.Output + row0 * w, rows, w, w, outputT, block, block);
                tiles.ColumnDots(gradOutT, outputT, w, rowDot);
                int visibleKeys = _spec.Causal ? Math.Min(keys, i0 + rows) : keys;
                for (int j0 = 0; j0 < visibleKeys; j0 += keyBlock)
                {
                    int n = Math.Min(keyBlock, visibleKeys - j0), keyRows = AttentionTiles.RoundUp(n, tiles.Rows);
                    tiles.Product(keysT + j0, paddedKeys, queriesT, block, w, scores, block, keyRows, block, accumulate: false);
                    tiles.Product(valuesT + j0, paddedKeys, gradOutT, block, w, gradScores, block, keyRows, block, accumulate: false);
                    tiles.GradientBlock(scores, gradScores, keyRows, n, rows, _spec.Causal ? j0 - i0 : AttentionTiles.NotCausal, scale, max, inverseSum, rowDot);
                    long keyRow = (long)j0 * paddedWidth;
                    tiles.Product(gradScores, block, keysB + keyRow, paddedWidth, n, gradQ, paddedWidth, block, paddedWidth, accumulate: true);
                    tiles.AccumulateTransposed(scores, gradOutB, paddedWidth, rows, gradV + keyRow, paddedWidth, keyRows, paddedWidth);
                    tiles.AccumulateTransposed(gradScores, queriesB, paddedWidth, rows, gradK + keyRow, paddedWidth, keyRows, paddedWidth);
                }
                AttentionRows.CopyUnpadded(gradQ, paddedWidth, rows, w, s.GradQ + row0 * w);
            }
            AttentionRows.CopyUnpadded(gradK, paddedWidth, keys, w, s.GradK + keyBase);
            AttentionRows.CopyUnpadded(gradV, paddedWidth, keys, w, s.GradV + keyBase);
        }
    }
}

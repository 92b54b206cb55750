using System.Runtime.CompilerServices;
using System.Numerics.Tensors;
using Dataflow.Engine.Backends;

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// Scaled dot-product attention forward (<see cref="AttentionSpec"/>), flash-attention style: parallel over
/// batch·head slices, a block of queries (one vector of them, <see cref="AttentionTiles.QueryBlock"/>) at a time
/// against blocks of <see cref="AttentionTiles.KeyBlock"/> keys. A block's scores are one register-tiled product
/// into an L1 tile, the online softmax rescales what was accumulated when a row's running maximum grows, and the
/// probabilities times V is a second register-tiled product into the block's output rows, so no T×S row of
/// probabilities is ever stored. Causal blocks stop at the block's last query, which skips every fully masked
/// key block (and the masked lanes of the diagonal one contribute exact zeros).
/// </summary>
internal sealed unsafe class AttentionKernel : CpuKernel
{
    private readonly AttentionSpec _spec;
    private readonly AttentionTiles _tiles;

    public AttentionKernel(AttentionSpec spec) : this(spec, AttentionTiles.Best) { }

    /// <summary>With the tiles of one instruction set (the tests run both on any machine).</summary>
    internal AttentionKernel(AttentionSpec spec, AttentionTiles tiles)
        : base(spec, Buffers(spec))
    {
        AttentionRows.CheckSizes("attention", spec.BatchHeads, spec.Queries, spec.Keys, spec.Width);
        _spec = spec;
        _tiles = tiles;
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

    // Optimized at once: a tier-0 body (no inlining of the tiles' vector helpers) runs the first steps several times slower.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RunSlices(in State s, int first, int last)
    {
        var tiles = _tiles;
        int w = (int)_spec.Width, queries = (int)_spec.Queries, keys = (int)_spec.Keys;
        int block = tiles.QueryBlock, keyBlock = AttentionTiles.KeyBlock;
        int paddedWidth = AttentionTiles.RoundUp(w, tiles.Lanes), paddedKeys = AttentionTiles.RoundUp(keys, keyBlock);
        float scale = _spec.Scale;
        // Kᵀ [w, S'] (the scores' A, a block of keys contiguous per width step), V padded to [S', w'] (P·V's B),
        // a query block's Qᵀ [w, block] (the scores' B), its output rows [block, w'], the score tile, and per lane
        // the running maximum, sum and rescale factor.
        long kT = (long)w * paddedKeys, vp = (long)paddedKeys * paddedWidth, qT = (long)w * block, o = (long)block * paddedWidth;
        float* keysT = Scratch.ThreadLocal(Scratch.Scores, kT + vp + qT + o + (long)keyBlock * block + 3L * block);
        float* values = keysT + kT, queriesT = values + vp, accumulated = queriesT + qT, tile = accumulated + o;
        float* max = tile + keyBlock * block, sum = max + block, rescale = sum + block;
        for (int bh = first; bh < last; bh++)
        {
            float* k = s.K + (long)bh * keys * w, v = s.V + (long)bh * keys * w;
            AttentionRows.Transpose(k, keys, w, w, keysT, paddedKeys, paddedKeys);
            // Where the width is whole vectors a padded row is its source row, and P·V reads only real keys: read V itself.
            float* valuesB = paddedWidth == w ? v : values;
            if (valuesB != v) AttentionRows.CopyPadded(v, keys, w, values, paddedWidth, paddedKeys);
            for (int i0 = 0; i0 < queries; i0 += block)
            {
                int rows = Math.Min(block, queries - i0);
                long row0 = (long)bh * queries + i0;
                AttentionRows.Transpose(s.Q + row0 * w, rows, w, w, queriesT, block, block);
                new Span<float>(accumulated, (int)o).Clear();
                new Span<float>(max, block).Fill(float.NegativeInfinity);
                new Span<float>(sum, block).Clear();
                // Keys some row of the block sees: a causal row i stops at key i.
                int visibleKeys = _spec.Causal ? Math.Min(keys, i0 + rows) : keys;
                for (int j0 = 0; j0 < visibleKeys; j0 += keyBlock)
                {
                    int n = Math.Min(keyBlock, visibleKeys - j0), keyRows = AttentionTiles.RoundUp(n, tiles.Rows);
                    tiles.Product(keysT + j0, paddedKeys, queriesT, block, w, tile, block, keyRows, block, accumulate: false);
                    tiles.SoftmaxBlock(tile, keyRows, n, rows, _spec.Causal ? j0 - i0 : AttentionTiles.NotCausal, scale, max, sum, rescale);
                    if (j0 > 0)
                        for (int r = 0; r < rows; r++) AttentionRows.Scale(accumulated + (long)r * paddedWidth, rescale[r], paddedWidth);
                    tiles.Product(tile, block, valuesB + (long)j0 * paddedWidth, paddedWidth, n, accumulated, paddedWidth, block, paddedWidth, accumulate: true);
                }
                for (int r = 0; r < rows; r++)
                {
                    // A row that saw no key (only with no keys at all) has an empty softmax: zeros, not 0/0.
                    float inverse = sum[r] > 0 ? 1 / sum[r] : 0;
                    TensorPrimitives.Multiply(new ReadOnlySpan<float>(accumulated + (long)r * paddedWidth, w), inverse, new Span<float>(s.Output + (row0 + r) * w, w));
                    if (s.Max != null)
                    {
                        s.Max[row0 + r] = max[r];
                        s.Sum[row0 + r] = sum[r];
                    }
                }
            }
        }
    }
}

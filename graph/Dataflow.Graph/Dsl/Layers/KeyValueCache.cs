using Dataflow.Graph.Ir;
using Dataflow.Graph.Tensors;

namespace Dataflow.Graph.Dsl.Layers;

/// <summary>
/// Decode mode's lowering for causal self-attention and positions. Row b of the batch feeds T tokens
/// at positions p_b … p_b+T−1 (p = the <c>position</c> input, i32[B]). Each attention layer keeps its
/// keys and values in state tensors <c>cache.SCOPE.k/.v</c> f32[slots, heads, L, dk] (L = the cache
/// length; bf16x2[slots, heads, L, dk / 2] for a bf16 cache, <see cref="LowerContext.Cache"/>) that the session holds on the device: <c>store_rows</c> writes the new rows in place at
/// each row's own positions (a position outside [0, L) writes nothing, so a row fed position L is
/// idle), and <c>cached_attention</c> lets each query read its slot's positions up to its own and no
/// further (an idle row reads nothing). Slots are the rows (the batched decode graph, B = slots) or, with
/// <see cref="LowerContext.CacheSlots"/>, named per row by the <c>slot</c> input (the prefill graph).
/// A step computes projections and MLPs for the new tokens only.
/// </summary>
internal static class KeyValueCache
{
    /// <summary>f32[B, T]: p_b + t, the position of each token fed this step.</summary>
    private static Node PositionsF32(LowerContext c, Dim length)
    {
        var b = c.Builder;
        var first = b.Reshape(b.Cast(c.DecodePosition(), DType.F32), Shape.Of(c.DecodeBatch(), Dim.Const(1)));
        return b.Add(first, b.Cast(b.Iota(length), DType.F32));
    }

    /// <summary>i32[B, T]: the positions of the tokens fed this step.</summary>
    public static Node Positions(LowerContext c, Dim length) => c.Builder.Cast(PositionsF32(c, length), DType.I32);

    /// <summary>x [B, T, d] → [B, 1, d]: row <c>last[b]</c> of each sequence (the prefill graph's <c>last</c> input).</summary>
    public static Node LastRows(LowerContext c, Node x)
    {
        var b = c.Builder;
        if (x.Shape.Rank != 3) throw new ShapeException($"unembed: in decode mode x must be [B, T, d], got {x.Type}");
        var (batch, tokens, width) = (x.Shape[0], x.Shape[1], x.Shape[2]);
        var last = b.Input(DecodeInputs.Last, new TensorType(DType.I32, Shape.Of(c.DecodeBatch())));
        var row = b.Add(b.Mul(b.Cast(b.Iota(batch), DType.F32), b.DimValue(tokens)), b.Cast(last, DType.F32));
        var picked = b.Gather(b.Reshape(x, Shape.Of(batch * tokens, width)), b.Cast(row, DType.I32));
        return b.Reshape(picked, Shape.Of(batch, Dim.Const(1), width));
    }

    /// <summary>
    /// i32[B, h, T]: the cache viewed as rows of dk, token t of row b, head j goes to row
    /// (slot_b·h + j)·L + p_b + t, or to -1 (skipped) when its position is past the cache. Exact in
    /// f32 below 2^24 rows. Shared by every layer with the same heads (see <see cref="LowerContext.CacheRowIndex"/>).
    /// </summary>
    private static Node RowIndex(LowerContext c, Dim batch, Dim heads, Dim tokens, long cacheLength)
    {
        if (c.CacheRowIndex.TryGetValue((heads, tokens), out var known)) return known;
        var b = c.Builder;
        var positions = PositionsF32(c, tokens);                                          // [B, T]
        var slot = c.CacheSlots is null ? b.Cast(b.Iota(batch), DType.F32) : b.Cast(c.DecodeSlot(), DType.F32);
        var head = b.Reshape(b.Cast(b.Iota(heads), DType.F32), Shape.Of(Dim.Const(1), heads, Dim.Const(1)));
        var firstRow = b.Mul(b.Add(b.Mul(b.Reshape(slot, Shape.Of(batch, Dim.Const(1), Dim.Const(1))), b.Scalar(heads.Value)), head), b.Scalar(cacheLength));
        var at = b.Reshape(positions, Shape.Of(batch, Dim.Const(1), tokens));
        var inside = b.Greater(b.Scalar(cacheLength), at);                                 // 1 where p < L
        var row = b.Add(b.Mul(b.Add(firstRow, at), inside), b.Sub(inside, b.Scalar(1)));   // [B, h, T]
        return c.CacheRowIndex[(heads, tokens)] = b.Cast(row, DType.I32);
    }

    /// <summary>
    /// Attention of q [B, h, T, dk] over the cache after writing k and v [B, h, T, dk] into it;
    /// returns weights·V [B, h, T, dk]. There is no attention dropout: decode mode never trains.
    /// </summary>
    public static Node Attend(LowerContext c, Node q, Node k, Node v, long headSize)
    {
        var b = c.Builder;
        long cacheLength = c.CacheLength ?? throw new InvalidOperationException("not in decode mode");
        var (length, batch, heads, tokens) = (Dim.Const(cacheLength), q.Shape[0], q.Shape[1], q.Shape[2]);
        var slots = c.CacheSlots is { } s ? Dim.Const(s) : batch;
        var scope = b.CurrentScope;
        // A bf16 cache holds each row's columns in pairs: bf16x2 [S, h, L, dk / 2], rounded as store_rows writes them.
        bool bf16 = c.Cache == CacheStorage.Bf16;
        if (bf16 && headSize % 2 != 0) throw new ShapeException($"a bf16 key/value cache holds columns in pairs; the head size {headSize} is odd (use an f32 cache)");
        var (cacheType, elements) = bf16 ? (DType.Bf16x2, headSize / 2) : (DType.F32, headSize);
        var cacheShape = Shape.Of(slots, heads, length, Dim.Const(elements));

        var index = RowIndex(c, batch, heads, tokens, cacheLength);

        Node Update(string name, Node fresh)
        {
            var state = b.State(name, new TensorType(cacheType, cacheShape));
            var rows = b.Reshape(state, Shape.Of(slots * heads * length, Dim.Const(elements)));
            return b.Reshape(b.StoreRows(rows, fresh, index), cacheShape);
        }
        var keys = Update(DecodeInputs.Keys(scope), k);
        var values = Update(DecodeInputs.Values(scope), v);

        // One op reads each row's slot in place and only the positions its queries may see (≤ p_b + t),
        // so a step's attention costs the valid length, not the cache length, and no slot is copied out.
        var rowSlot = c.CacheSlots is null ? b.Iota(batch) : c.DecodeSlot();
        return b.CachedAttention(q, keys, values, c.DecodePosition(), rowSlot);
    }
}

using Dataflow.Graph.Ir;
using Dataflow.Graph.Tensors;

namespace Dataflow.Graph.Dsl.Layers;

/// <summary>
/// Decode mode's lowering for causal self-attention and positions. The T tokens fed sit at positions
/// p … p+T−1 (p = the <c>position</c> input). Each attention layer's past keys and values come in as
/// inputs <c>cache.SCOPE.k/.v</c> f32[B, heads, L, dk] (L = the cache length); the new rows are written
/// at their positions with a one-hot matrix W [T, L] (cache·(1 − Σ_t W_t) + Wᵀ·k_new), the queries
/// attend over all L slots with slots after their own position masked out, and the updated caches
/// become outputs of the same names. So a step computes projections and MLPs for the new tokens only,
/// and everything is existing primitives: no op and no kernel is specific to caching.
/// </summary>
internal static class KeyValueCache
{
    /// <summary>Far below any score, but finite: 0·mask must stay 0 where a slot is visible.</summary>
    private const double Hidden = -1e30;

    /// <summary>i32[T]: p, p+1, …, p+T−1, the positions of the tokens fed this step.</summary>
    public static Node Positions(LowerContext c, Dim length)
    {
        var b = c.Builder;
        var first = b.Cast(c.DecodePosition(), DType.F32);
        return b.Cast(b.Add(b.Cast(b.Iota(length), DType.F32), first), DType.I32);
    }

    /// <summary>
    /// Attention of q [B, h, T, dk] over the cache after writing k and v [B, h, T, dk] into it;
    /// returns weights·V [B, h, T, dk]. There is no attention dropout: decode mode never trains.
    /// </summary>
    public static Node Attend(LowerContext c, Node q, Node k, Node v, long headSize)
    {
        var b = c.Builder;
        var length = Dim.Const(c.CacheLength ?? throw new InvalidOperationException("not in decode mode"));
        var scope = b.CurrentScope;
        var cacheShape = Shape.Of(k.Shape[0], k.Shape[1], length, k.Shape[3]);

        var positions = Positions(c, q.Shape[2]);
        var write = b.OneHot(positions, length);                                   // [T, L]
        var keep = b.Sub(b.Scalar(1), b.Reshape(b.ReduceSum(write, [0]), Shape.Of(length, Dim.Const(1))));
        Node Update(string name, Node fresh)
        {
            var past = b.Input(name, new TensorType(DType.F32, cacheShape));
            var updated = b.Add(b.Mul(past, keep), b.MatMul(write, fresh, transposeA: true));
            b.Graph.SetOutput(name, updated);
            return updated;
        }
        var keys = Update(DecodeInputs.Keys(scope), k);
        var values = Update(DecodeInputs.Values(scope), v);

        // Slot s is visible to the query at position p+t when s ≤ p+t.
        var slot = b.Cast(b.Iota(length), DType.F32);
        var query = b.Reshape(b.Cast(positions, DType.F32), Shape.Of(q.Shape[2], Dim.Const(1)));
        var mask = b.Mul(b.Greater(slot, query), b.Scalar(Hidden));              // [T, L]

        var scores = b.Add(b.Mul(b.MatMul(q, keys, transposeB: true), b.Scalar(1 / Math.Sqrt(headSize))), mask);
        return b.MatMul(Softmax.Apply(b, scores, -1), values);
    }
}

using Dataflow.Graph.Ir;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;

namespace Dataflow.Graph.Dsl.Layers;

/// <summary>
/// <c>positions(learned | sinusoidal, ctx, d, length = n)</c>: position vectors of shape [T, d].
/// Without <c>length</c> the result is deferred and T is taken from the tensor it is added to
/// (its second-to-last axis), so <c>wte(tokens) + positions(learned, ctx, d)</c> needs no T.
/// learned: Gather(table [ctx, d], Iota(T)). sinusoidal (Vaswani et al.): sin(pos·ω_i + φ_i) with
/// ω_i = 10000^(-2⌊i/2⌋/d) and φ_i = π/2 on odd i (so odd columns are cosines); no parameters.
/// In decode mode row b of the batch takes positions p_b … p_b+T−1 (<see cref="KeyValueCache.Positions"/>),
/// so the result is [B, T, d]; a position past the table gives zeros (an idle row's).
/// </summary>
public static class Positions
{
    public static IEnumerable<LayerDef> All => [new("positions", ["kind", "ctx", "d", "length?", "std?"], Lower)];

    private static Value Lower(CallArgs a, LowerContext c)
    {
        var kind = a.Choice("kind", "learned", "learned", "sinusoidal");
        var ctx = a.Size("ctx");
        var d = a.Size("d");
        var b = c.Builder;
        var name = b.CurrentScope;
        var parent = name.Contains('.') ? name[..name.LastIndexOf('.')] : "";
        Node? table = kind == "learned"
            ? c.Parameter("weight", Shape.Of(ctx, d), ParamInit.Normal(a.Number("std", 0.02)), ParamCategory.Embedding)
            : null;

        long unreported = table is null ? 0 : ctx.Value * d.Value;
        var built = new Dictionary<Dim, Node>();
        Node Build(Dim length)
        {
            if (built.TryGetValue(length, out var cached)) return cached;
            if (length.IsConstant && length.Value > ctx.Value)
                throw new ShapeException($"positions: length {length} exceeds the context size {ctx}");
            // Decode mode feeds the tokens at position p onwards, not from 0.
            var index = c.CacheLength is null ? b.Iota(length) : KeyValueCache.Positions(c, length);
            var node = table is not null ? b.Gather(table, index) : Sinusoid(b, index, length, d);
            // A deferred tensor is built where it is used, so the layer is recorded here.
            b.Graph.AddLayer(new LayerInfo(name, "positions", node.Type, unreported, parent));
            unreported = 0;
            return built[length] = node;
        }

        if (a.Has("length")) return new TensorValue(Build(a.Size("length")));
        return new DeferredTensor("positions", Build);
    }

    private static Node Sinusoid(GraphBuilder b, Node index, Dim length, Dim d)
    {
        int width = checked((int)d.Value);
        var frequencies = new float[width];
        var phases = new float[width];
        for (int i = 0; i < width; i++)
        {
            frequencies[i] = (float)Math.Pow(10000, -2.0 * (i / 2) / width);
            phases[i] = i % 2 == 0 ? 0 : (float)(Math.PI / 2);
        }
        var position = b.Reshape(b.Cast(index, DType.F32), new Shape(index.Shape.Dims.Add(Dim.Const(1))));
        var angles = b.Add(b.Mul(position, b.Constant(frequencies, Shape.Of(d))), b.Constant(phases, Shape.Of(d)));
        return b.Sin(angles);
    }
}

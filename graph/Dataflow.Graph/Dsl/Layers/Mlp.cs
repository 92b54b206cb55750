using Dataflow.Graph.Ops;
using Dataflow.Graph.Ir;
using Dataflow.Graph.Lora;
using Dataflow.Graph.Tensors;

namespace Dataflow.Graph.Dsl.Layers;

/// <summary>
/// The transformer feed-forward blocks. <c>mlp(x, hidden, act = gelu, std = s)</c>:
/// proj(act(fc(x))) with fc [d, hidden] and proj [hidden, d], both with bias.
/// <c>gated_mlp(x, hidden, act = silu, std = s)</c>: down(act(gate(x)) · up(x)), the Llama family's
/// SwiGLU with the default act (GeGLU with gelu), three linears without bias.
/// Their LoRA roles are <c>fc</c> (fc, gate, up) and <c>mlp_proj</c> (proj, down) (<see cref="LoraTargets"/>).
/// </summary>
public static class Mlp
{
    public static IEnumerable<LayerDef> All =>
    [
        new("mlp", ["x", "hidden", "act?", "std?"], (a, c) =>
        {
            var x = a.Tensor("x");
            var act = a.Choice("act", "gelu", Activations.Names);
            var init = a.Has("std") ? ParamInit.Normal(a.Number("std")) : ParamInit.Xavier;
            var d = x.Shape.Rank > 0 ? x.Shape.At(-1) : throw a.Error("x", $"mlp needs x of shape [..., d], got {x.Type}");
            Node h;
            using (c.Builder.Scope("fc"))
                h = Activations.Apply(act, c.Builder, Linear.Apply(c, x, a.Size("hidden"), true, init, ParamCategory.Mlp, LoraTargets.Fc));
            using (c.Builder.Scope("proj"))
                return new TensorValue(Linear.Apply(c, h, d, true, init, ParamCategory.Mlp, LoraTargets.MlpProj));
        }),
        new("gated_mlp", ["x", "hidden", "act?", "std?"], (a, c) =>
        {
            var x = a.Tensor("x");
            var act = a.Choice("act", "silu", Activations.Names);
            var init = a.Has("std") ? ParamInit.Normal(a.Number("std")) : ParamInit.Xavier;
            if (x.Shape.Rank == 0) throw a.Error("x", $"gated_mlp needs x of shape [..., d], got {x.Type}");
            return new TensorValue(Gated(c, x, a.Size("hidden"), act, init));
        }),
    ];

    /// <summary>
    /// gated_mlp's lowering, down(act(gate(x)) · up(x)) with its three parameters made in <paramref name="c"/>'s
    /// scope: the layer, and what the conformance suite's whole-layer case runs.
    /// </summary>
    public static Node Gated(LowerContext c, Node x, Dim hidden, string act, ParamInit init)
    {
        var d = x.Shape.At(-1);
        Node gate, up;
        using (c.Builder.Scope("gate"))
            gate = Linear.Apply(c, x, hidden, false, init, ParamCategory.Mlp, LoraTargets.Fc);
        using (c.Builder.Scope("up"))
            up = Linear.Apply(c, x, hidden, false, init, ParamCategory.Mlp, LoraTargets.Fc);
        using (c.Builder.Scope("down"))
            return Linear.Apply(c, Gate(c.Builder, act, gate, up), d, false, init, ParamCategory.Mlp, LoraTargets.MlpProj);
    }

    /// <summary>act(gate) · up: gated_mlp's gating of its two projections, also what the conformance suite's SwiGLU pattern is built from.</summary>
    public static Node Gate(GraphBuilder b, string act, Node gate, Node up) => b.Mul(Activations.Apply(act, b, gate), up);
}

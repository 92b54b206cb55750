using Dataflow.Graph.Ops;
using Dataflow.Graph.Ir;
using Dataflow.Graph.Lora;

namespace Dataflow.Graph.Dsl.Layers;

/// <summary>
/// <c>mlp(x, hidden, act = gelu, std = s)</c>: the transformer feed-forward block,
/// proj(act(fc(x))) with fc [d, hidden] and proj [hidden, d], both with bias.
/// Their LoRA roles are <c>fc</c> and <c>mlp_proj</c> (<see cref="LoraTargets"/>).
/// </summary>
public static class Mlp
{
    public static IEnumerable<LayerDef> All => [new("mlp", ["x", "hidden", "act?", "std?"], (a, c) =>
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
    })];
}

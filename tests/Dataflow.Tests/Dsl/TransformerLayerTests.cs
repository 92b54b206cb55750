using Dataflow.Graph.Dsl;
using Dataflow.Graph.Ir;
using Dataflow.Graph.Ops;
using static Dataflow.Tests.Dsl.DslTestSupport;

namespace Dataflow.Tests.Dsl;

public class TransformerLayerTests
{
    private const string Header = "model m(vocab = 11, ctx = 16, d = 8, heads = 2)\ninput tokens : i32[B, T]\ninput enc : f32[B, S, d]\n";

    private static LoadedModel Lower(string body, bool training = true) => Load(Header + body, training);

    private static LayerInfo Layer(LoadedModel m, string name) => m.Graph.Layers.First(l => l.Name == name);

    [Fact]
    public void Embedding_is_a_callable_object_with_a_table()
    {
        var m = Lower("wte = embedding(vocab, d)\nh = wte(tokens)\ng = wte(tokens)\n");
        var table = Assert.Single(m.Graph.Parameters);
        Assert.Equal(("wte.weight", ParamCategory.Embedding, "[11, 8]"), (table.Name, table.Category, table.Node.Shape.ToString()));
        Assert.Equal(ParamInit.Normal(0.02), table.Node.Attrs.Init);
        var lookups = m.Graph.Layers.Where(l => l.Kind == "embedding").ToList();
        Assert.Equal(["f32[B, T, 8]", "f32[B, T, 8]"], lookups.Select(l => l.Output.ToString()));
        Assert.Equal([88L, 0L], lookups.Select(l => l.Parameters));    // counted once
        Assert.Equal(2, m.Graph.Nodes.Count(n => n.Op == OpCode.Gather && n.Inputs[0] == table.Node));
    }

    [Fact]
    public void Learned_positions_take_their_length_from_the_tensor_they_are_added_to()
    {
        var m = Lower("wte = embedding(vocab, d)\nwpe = positions(learned, ctx, d)\nh = wte(tokens) + wpe\noutput h\n");
        Assert.Equal(["wte.weight", "wpe.weight"], m.Graph.Parameters.Select(p => p.Name));
        Assert.Equal("[16, 8]", m.Graph.Parameters[1].Node.Shape.ToString());
        var iota = m.Graph.Nodes.Single(n => n.Op == OpCode.Iota);
        Assert.Equal("T", iota.Attrs.Count!.ToString());
        Assert.Equal(("f32[T, 8]", 128L), (Layer(m, "wpe").Output.ToString(), Layer(m, "wpe").Parameters));
        Assert.Equal("f32[B, T, 8]", m.Graph.Outputs["h"].Type.ToString());
    }

    [Fact]
    public void Positions_with_a_length_are_built_at_once()
    {
        var m = Lower("p = positions(sinusoidal, ctx, d, length = 5)\noutput p\n");
        Assert.Empty(m.Graph.Parameters);
        Assert.Equal("f32[5, 8]", m.Graph.Outputs["p"].Type.ToString());
        var frequencies = m.Graph.Nodes.First(n => n.Op == OpCode.Constant && n.Attrs.Data is not null).Attrs.Data!;
        Assert.Equal([1f, 1f, (float)Math.Pow(10000, -0.25), (float)Math.Pow(10000, -0.25)], frequencies.Take(4));
        var d = Diagnose(Header + "p = positions(learned, ctx, d, length = 17)\n");
        Assert.Equal("positions: length 17 exceeds the context size 16", d.Message);
    }

    [Fact]
    public void Deferred_positions_cannot_be_used_as_a_tensor_argument()
    {
        var d = Diagnose(Header + "p = positions(learned, ctx, d)\nh = relu(p)\n");
        Assert.Equal((5, 10), (d.Line, d.Column));
        Assert.StartsWith("relu: 'x' is positions(...) without a length", d.Message);
    }

    [Fact]
    public void Layernorm_normalises_the_last_axis_with_gain_and_bias()
    {
        var m = Lower("h = layernorm(enc)\n");
        Assert.Equal("f32[B, S, 8]", Layer(m, "h").Output.ToString());
        var p = m.Graph.Parameters;
        Assert.Equal([("h.weight", ParamInit.Ones), ("h.bias", ParamInit.Zeros)], p.Select(x => (x.Name, x.Node.Attrs.Init!)));
        Assert.All(p, x => Assert.Equal(ParamCategory.Norm, x.Category));
        Assert.Contains(m.Graph.Nodes, n => n.Op == OpCode.Constant && n.Attrs.Value == 1e-5);
        Assert.Equal(2, m.Graph.Nodes.Count(n => n.Op == OpCode.ReduceSum && n.Attrs.Axes.SequenceEqual([2]) && n.Attrs.KeepDims));
    }

    [Fact]
    public void Self_attention_uses_one_qkv_projection_and_an_output_projection()
    {
        var m = Lower("a = attention(enc, heads)\n");
        Assert.Equal("f32[B, S, 8]", Layer(m, "a").Output.ToString());
        Assert.Equal(["a.qkv.weight", "a.qkv.bias", "a.proj.weight", "a.proj.bias"], m.Graph.Parameters.Select(p => p.Name));
        Assert.Equal(["[8, 24]", "[24]", "[8, 8]", "[8]"], m.Graph.Parameters.Select(p => p.Node.Shape.ToString()));
        Assert.All(m.Graph.Parameters, p => Assert.Equal(ParamCategory.Attention, p.Category));
        Assert.DoesNotContain(m.Graph.Nodes, n => n.Op == OpCode.CausalMask);
        Assert.Contains(m.Graph.Nodes, n => n.Op == OpCode.MatMul && n.Attrs.TransposeB && n.Type.ToString() == "f32[B, 2, S, S]");
        Assert.Contains(m.Graph.Nodes, n => n.Op == OpCode.Constant && Math.Abs(n.Attrs.Value - 1 / Math.Sqrt(4)) < 1e-12);
    }

    [Fact]
    public void Causal_attention_adds_the_mask_and_cross_attention_reads_the_context()
    {
        var causal = Lower("wte = embedding(vocab, d)\nx = wte(tokens)\na = attention(x, heads, causal = true)\n");
        Assert.Equal("[T, T]", causal.Graph.Nodes.Single(n => n.Op == OpCode.CausalMask).Shape.ToString());

        var cross = Lower("wte = embedding(vocab, d)\nx = wte(tokens)\na = attention(x, heads, context = enc)\n");
        Assert.Equal(["wte.weight", "a.q.weight", "a.q.bias", "a.kv.weight", "a.kv.bias", "a.proj.weight", "a.proj.bias"],
            cross.Graph.Parameters.Select(p => p.Name));
        var kv = cross.Graph.Nodes.Single(n => n.Op == OpCode.MatMul && n.Scope == "a.kv");
        Assert.Same(cross.Graph.Inputs["enc"], kv.Inputs[0]);
        Assert.Equal("f32[B, T, 8]", Layer(cross, "a").Output.ToString());
    }

    [Fact]
    public void Attention_checks_heads_and_shapes()
    {
        Assert.Equal("attention: 3 heads do not divide the width 8", Diagnose(Header + "a = attention(enc, 3)\n").Message);
        Assert.StartsWith("attention: x must be f32[B, T, d]", Diagnose(Header + "input v : f32[B, 8]\na = attention(v, 2)\n").Message);
    }

    [Fact]
    public void Mlp_expands_and_projects_back()
    {
        var m = Lower("f = mlp(enc, 4 * d, act = relu)\n");
        Assert.Equal("f32[B, S, 8]", Layer(m, "f").Output.ToString());
        Assert.Equal(["f.fc.weight", "f.fc.bias", "f.proj.weight", "f.proj.bias"], m.Graph.Parameters.Select(p => p.Name));
        Assert.Equal("[8, 32]", m.Graph.Parameters[0].Node.Shape.ToString());
        Assert.All(m.Graph.Parameters, p => Assert.Equal(ParamCategory.Mlp, p.Category));
        Assert.Contains(m.Graph.Nodes, n => n.Op == OpCode.Max);
        Assert.Contains(Lower("f = mlp(enc, 16)\n").Graph.Nodes, n => n.Op == OpCode.Tanh);    // gelu by default
        // The names listed are the activations there are (the composed ones, then the catalog's): a new one joins the list.
        Assert.Equal(["relu", "gelu", "sigmoid", "tanh", "silu"], Graph.Dsl.Layers.Activations.Names.Take(5));
        Assert.StartsWith($"mlp: 'act' must be one of {string.Join(", ", Graph.Dsl.Layers.Activations.Names)}; got 'gelo' (did you mean 'gelu'?)",
            Diagnose(Header + "f = mlp(enc, 16, act = gelo)\n").Message);
    }

    [Fact]
    public void Unembed_tied_reuses_the_table_and_untied_makes_a_projection()
    {
        var tied = Lower("wte = embedding(vocab, d)\nlogits = unembed(enc, tied = wte)\n");
        Assert.Single(tied.Graph.Parameters);
        var mm = tied.Graph.Nodes.Single(n => n.Op == OpCode.MatMul);
        Assert.True(mm.Attrs.TransposeB);
        Assert.Same(tied.Graph.Parameters[0].Node, mm.Inputs[1]);
        Assert.Equal(("f32[B, S, 11]", 0L), (Layer(tied, "logits").Output.ToString(), Layer(tied, "logits").Parameters));

        var untied = Lower("logits = unembed(enc, vocab)\n");
        Assert.Equal("logits.weight", Assert.Single(untied.Graph.Parameters).Name);
        Assert.Equal("f32[B, S, 11]", Layer(untied, "logits").Output.ToString());
        Assert.Equal("unembed: tied must be an embedding layer, got a tensor f32[B, S, 8]",
            Diagnose(Header + "l = unembed(enc, tied = enc)\n").Message);
    }
}

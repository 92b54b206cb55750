using Dataflow.Graph.Ir;
using Dataflow.Graph.Ops;
using static Dataflow.Tests.Dsl.DslTestSupport;

namespace Dataflow.Tests.Dsl;

public class TransformerModelTests
{
    private static long Elements(ParameterInfo p) => p.Node.Shape.ToConcrete().Aggregate(1L, (a, b) => a * b);

    [Fact]
    public void Gpt2_small_has_exactly_124_439_808_parameters()
    {
        var m = LoadModel("gpt.dfg", preset: "gpt2");
        Assert.Equal(124_439_808, ParameterCount(m));
        Assert.Equal(LoadModel("gpt.dfg").Settings, m.Settings);
        Assert.Equal("f32[B, T, 50257]", m.Graph.Outputs["logits"].Type.ToString());
        var byCategory = m.Graph.Parameters.GroupBy(p => p.Category).ToDictionary(g => g.Key, g => g.Sum(Elements));
        Assert.Equal(50257 * 768 + 1024 * 768, byCategory[ParamCategory.Embedding]);
        Assert.Equal(12 * (768 * 2304 + 2304 + 768 * 768 + 768), byCategory[ParamCategory.Attention]);
        Assert.Equal(12 * (768 * 3072 + 3072 + 3072 * 768 + 768), byCategory[ParamCategory.Mlp]);
        Assert.Equal((2 * 12 + 1) * 2 * 768, byCategory[ParamCategory.Norm]);
        Assert.Equal(["gpt2", "gpt2-medium", "gpt2-large", "gpt2-xl", "gpt3", "shakespeare-char"], m.Presets);
        Assert.Equal(0.95, m.Training.OptimizerArgs["beta2"]);
        Assert.Equal(0.99, LoadModel("gpt.dfg", preset: "shakespeare-char").Training.OptimizerArgs["beta2"]);
    }

    [Fact]
    public void Gpt_parameter_names_follow_the_block_structure()
    {
        var names = LoadModel("gpt.dfg").Graph.Parameters.Select(p => p.Name).ToList();
        Assert.Equal(["wte.weight", "wpe.weight", "decoder.0.layernorm.weight", "decoder.0.layernorm.bias",
                      "decoder.0.attention.qkv.weight", "decoder.0.attention.qkv.bias",
                      "decoder.0.attention.proj.weight", "decoder.0.attention.proj.bias",
                      "decoder.0.layernorm_1.weight", "decoder.0.layernorm_1.bias",
                      "decoder.0.mlp.fc.weight", "decoder.0.mlp.fc.bias", "decoder.0.mlp.proj.weight", "decoder.0.mlp.proj.bias"],
            names.Take(14));
        Assert.Equal(["ln_f.weight", "ln_f.bias"], names.TakeLast(2));
        Assert.Equal(names.Count, names.Distinct().Count());
    }

    [Theory]
    [InlineData("gpt2-medium", 354_823_168)]
    [InlineData("gpt2-large", 774_030_080)]
    [InlineData("gpt2-xl", 1_557_611_200)]
    public void Larger_gpt2_presets_match_the_published_counts(string preset, long expected)
    {
        Assert.Equal(expected, ParameterCount(LoadModel("gpt.dfg", preset: preset)));
    }

    [Fact]
    public void Gpt3_is_175_billion_parameters_with_the_published_embedding()
    {
        var m = LoadModel("gpt.dfg", preset: "gpt3");
        var count = ParameterCount(m);
        Assert.InRange(count, 175e9 * 0.995, 175e9 * 1.005);
        Assert.Equal(617_558_016, Elements(m.Graph.Parameters.Single(p => p.Name == "wte.weight")));
        Assert.Equal(96, m.Graph.Nodes.Count(n => n.Op == OpCode.CausalMask));
    }

    [Fact]
    public void Every_gpt_decoder_attention_is_causal()
    {
        var m = LoadModel("gpt.dfg");
        var masks = m.Graph.Nodes.Where(n => n.Op == OpCode.CausalMask).Select(n => n.Scope).ToList();
        Assert.Equal(Enumerable.Range(0, 12).Select(i => $"decoder.{i}.attention"), masks);
        // The mask is added to the scores before the softmax.
        var add = m.Graph.Nodes.First(n => n.Op == OpCode.Add && n.Inputs.Any(i => i.Op == OpCode.CausalMask));
        Assert.Equal(OpCode.Mul, add.Inputs[0].Op);
        Assert.Contains(m.Graph.Nodes, n => n.Op == OpCode.ReduceMax && n.Inputs[0] == add);
    }

    [Fact]
    public void Transformer_base_shares_one_embedding_and_counts_63_million_parameters()
    {
        var m = LoadModel("transformer.dfg");
        Assert.Equal(63_082_496, ParameterCount(m));
        Assert.Equal("embed.weight", m.Graph.Parameters.Single(p => p.Category == ParamCategory.Embedding).Name);
        Assert.Equal("f32[B, T, 37000]", m.Graph.Outputs["logits"].Type.ToString());
        Assert.Equal(["source", "target_in", "target_out"], m.Graph.Inputs.Keys.Order());
        // Label smoothing 0.1 over 37000 classes.
        Assert.Contains(m.Graph.Nodes, n => n.Op == OpCode.Constant && Math.Abs(n.Attrs.Value - 0.1 / 37000) < 1e-15);
        // Sinusoidal positions are computed, not learned.
        Assert.Equal(2, m.Graph.Nodes.Count(n => n.Op == OpCode.Sin));
        Assert.Equal(2, m.Graph.Layers.Count(l => l.Kind == "positions" && l.Parameters == 0));
    }

    [Fact]
    public void Transformer_carries_the_papers_training_recipe_and_tiny_its_own_rates()
    {
        var base_ = LoadModel("transformer.dfg").Training;
        Assert.Equal(("adam", "inverse_sqrt"), (base_.Optimizer, base_.Schedule));
        Assert.Equal(new Dictionary<string, double> { ["lr"] = 0.0007, ["beta1"] = 0.9, ["beta2"] = 0.98, ["eps"] = 1e-9, ["clip"] = 0 }, base_.OptimizerArgs);
        Assert.Equal(4000, base_.ScheduleArgs["warmup"]);
        Assert.Equal((64.0, 100000.0, 5.0), (base_.TrainArgs["batch"], base_.TrainArgs["steps"], base_.TrainArgs["average"]));

        var tiny = LoadModel("transformer.dfg", preset: "tiny").Training;
        Assert.Equal((0.003, 1.0, 300.0, 5000.0), (tiny.OptimizerArgs["lr"], tiny.OptimizerArgs["clip"], tiny.ScheduleArgs["warmup"], tiny.TrainArgs["steps"]));
    }

    [Fact]
    public void Transformer_masks_only_decoder_self_attention()
    {
        var m = LoadModel("transformer.dfg");
        var masks = m.Graph.Nodes.Where(n => n.Op == OpCode.CausalMask).Select(n => n.Scope).ToList();
        Assert.Equal(Enumerable.Range(0, 6).Select(i => $"decoder.{i}.attention"), masks);
        Assert.Equal("[T, T]", m.Graph.Nodes.First(n => n.Op == OpCode.CausalMask).Shape.ToString());
    }

    [Fact]
    public void Cross_attention_reads_keys_and_values_from_the_encoder_output()
    {
        var m = LoadModel("transformer.dfg");
        var encoderOutput = m.Graph.Nodes.Last(n => n.Scope.StartsWith("encoder.5.", StringComparison.Ordinal));
        Assert.Equal("f32[B, S, 512]", encoderOutput.Type.ToString());
        for (int i = 0; i < 6; i++)
        {
            var kv = m.Graph.Nodes.Single(n => n.Op == OpCode.MatMul && n.Scope == $"decoder.{i}.attention_1.kv");
            Assert.Same(encoderOutput, kv.Inputs[0]);
            var q = m.Graph.Nodes.Single(n => n.Op == OpCode.MatMul && n.Scope == $"decoder.{i}.attention_1.q");
            Assert.StartsWith("f32[B, T,", q.Inputs[0].Type.ToString());
        }
        // Cross-attention scores are [B, heads, T, S].
        Assert.Contains(m.Graph.Nodes, n => n.Op == OpCode.MatMul && n.Scope == "decoder.0.attention_1" && n.Type.ToString() == "f32[B, 8, T, S]");
    }
}

using Dataflow.Engine.Sessions;
using Dataflow.Graph.Checkpoints;
using Dataflow.Graph.Dsl;
using Dataflow.Graph.Ir;
using Dataflow.Graph.Lora;
using Dataflow.Tests.Autodiff;
using Dataflow.Tests.LanguageModels;
using Dataflow.Tests.Support;

namespace Dataflow.Tests.Lora;

/// <summary>
/// LoRA on the tiny GPT: it starts exactly at the base (B = 0), its adapters merge into the base with
/// the same logits and unmerge back to the base's weights, and A's and B's gradients are right.
/// </summary>
public sealed class LoraModelTests
{
    private static readonly LoraConfig AllTargets = new(4, 8, ["qkv", "proj", "fc", "mlp_proj"]);
    private static readonly int[] Tokens = [1, 5, 2, 9, 3, 3, 7, 0];

    private static LoadedModel LoraGpt(LoraConfig config) =>
        ModelLoader.Load(TinyGpt.ModelPath, new ModelOptions(null, TinyGpt.Overrides, Training: false) { Lora = config });

    /// <summary>A session for the LoRA model whose base parameters are copied from <paramref name="baseSession"/>.</summary>
    private static Session LoraSessionOn(Session baseSession, ComputeGraph baseGraph, ComputeGraph loraGraph)
    {
        var session = TinyGpt.NewSession(seed: 99);
        session.DeclareParameters(loraGraph);
        foreach (var p in baseGraph.Parameters)
        {
            var from = baseSession.Parameters.Get(p.Name);
            session.Parameters.Write(session.Parameters.Get(p.Name).Value, baseSession.Parameters.Read(from.Value, from.Elements));
        }
        return session;
    }

    private static float[] Read(Session session, string name)
    {
        var slot = session.Parameters.Get(name);
        return session.Parameters.Read(slot.Value, slot.Elements);
    }

    [Fact]
    public void WithBZeroTheLogitsAreTheBasesExactly()
    {
        var baseModel = TinyGpt.Load();
        var loraModel = LoraGpt(AllTargets);
        using var baseSession = TinyGpt.NewSession();
        baseSession.DeclareParameters(baseModel.Graph);
        using var lora = LoraSessionOn(baseSession, baseModel.Graph, loraModel.Graph);

        var a = Read(lora, "decoder.0.attention.qkv.lora_a");
        Assert.Contains(a, v => v != 0);
        Assert.All(a, v => Assert.True(Math.Abs(v) <= 1 / Math.Sqrt(16)));    // Kaiming-uniform bound 1/sqrt(fan_in)
        Assert.All(Read(lora, "decoder.1.mlp.proj.lora_b"), v => Assert.Equal(0f, v));
        Assert.Equal(TinyGpt.FullLogits(baseSession, baseModel, Tokens), TinyGpt.FullLogits(lora, loraModel, Tokens));
    }

    [Fact]
    public void MergedLogitsMatchTheAdapterAndUnmergingRestoresTheBase()
    {
        using var dir = new TempDirectory();
        var baseModel = TinyGpt.Load();
        var loraModel = LoraGpt(AllTargets);
        using var baseSession = TinyGpt.NewSession();
        baseSession.DeclareParameters(baseModel.Graph);
        SessionCheckpoint.Save(baseSession, baseModel.Graph, dir.File("base.ckpt"), new Dictionary<string, string>(), []);
        using var lora = LoraSessionOn(baseSession, baseModel.Graph, loraModel.Graph);
        int seed = 3;
        foreach (var p in loraModel.Graph.TrainableParameters)    // B ≠ 0, as after training
            lora.Parameters.Write(lora.Parameters.Get(p.Name).Value, TestGraphs.RandomValues(seed++, p.Node.Shape.ElementCount(), -0.3, 0.3));
        SessionAdapter.Save(lora, loraModel.Graph, AllTargets, dir.File("base.ckpt"), dir.File("adapter.ckpt"));

        var adapter = LoraAdapter.Read(dir.File("adapter.ckpt"));
        var baseCheckpoint = CheckpointReader.Load(dir.File("base.ckpt"));
        var merged = LoraMerge.Merge(baseCheckpoint, adapter);
        CheckpointWriter.Save(dir.File("merged.ckpt"), merged);
        using var mergedSession = TinyGpt.NewSession();
        SessionCheckpoint.Load(mergedSession, baseModel.Graph, dir.File("merged.ckpt"));

        var expected = TinyGpt.FullLogits(lora, loraModel, Tokens);
        var actual = TinyGpt.FullLogits(mergedSession, baseModel, Tokens);
        Assert.True(expected.Zip(actual).Max(p => Math.Abs(p.First - p.Second)) <= 1e-5);
        Assert.NotEqual(TinyGpt.FullLogits(baseSession, baseModel, Tokens), expected);    // the adapter does change the model

        var restored = LoraMerge.Unmerge(CheckpointReader.Load(dir.File("merged.ckpt")), adapter).Tensors.ToDictionary(t => t.Name);
        foreach (var original in baseCheckpoint.Tensors)
        {
            var before = original.AsFloats();
            var after = restored[original.Name].AsFloats();
            Assert.True(before.Zip(after).All(p => Math.Abs(p.First - p.Second) <= 1e-6), $"{original.Name} is not restored");
        }
        Assert.Contains(merged.Tensors, t => t.Name == "decoder.0.attention.qkv.weight" &&
            !t.AsFloats().SequenceEqual(baseCheckpoint.Tensors.First(b => b.Name == t.Name).AsFloats()));
    }

    [Fact]
    public void AAndBGradientsPassTheFiniteDifferenceCheckAndTheBaseGetsNone()
    {
        const string source = """
            model snippet(d = 8, heads = 2)
            input x : f32[B, T, 8]
            y = mlp(attention(x, heads, causal = true), 16) + linear(x, 8)
            loss = mean(y * y, [0, 1, 2])
            """;
        var config = new LoraConfig(2, 3, ["qkv", "proj", "fc", "mlp_proj", "linear"]);
        var graph = ModelLoader.LoadSource("snippet.dfg", source, new ModelOptions(Training: true) { Lora = config }).Graph;
        var values = new Dictionary<string, float[]>();
        int seed = 11;
        foreach (var p in graph.Parameters)    // B random, not zero, or A's gradient would be zero
            values[p.Name] = TestGraphs.RandomValues(seed++, p.Node.Shape.ElementCount(), -0.5, 0.5);

        var gradients = StepGraph.ForTraining(graph, withGradNorm: false).Gradients.Keys.Order().ToList();
        Assert.Equal(graph.Parameters.Where(p => p.Category == ParamCategory.Adapter).Select(p => p.Name).Order(), gradients);
        Assert.Equal(10, gradients.Count);
        var sizes = new Dictionary<string, long> { ["B"] = 2, ["T"] = 3 };
        FiniteDifference.Check(graph, values, new Dictionary<string, Array> { ["x"] = TestGraphs.RandomValues(7, 2 * 3 * 8) }, sizes, maxCoordinatesPerParameter: 12);
    }

    [Fact]
    public void RankEightOnQkvProjAndFcIsUnderTwoPercentOfAFewMillionParameterGpt()
    {
        // nanoGPT's shakespeare-char shape: 6 layers of d = 384, 10.7M parameters.
        var options = new ModelOptions("shakespeare-char", new Dictionary<string, string> { ["vocab"] = "65" }, Training: false) { Lora = new LoraConfig(8, 16, ["qkv", "proj", "fc"]) };
        var graph = ModelLoader.Load(TinyGpt.ModelPath, options).Graph;
        long trainable = graph.TrainableParameters.Sum(p => p.Node.Shape.ElementCount());
        long frozen = graph.Parameters.Where(p => !p.Trainable).Sum(p => p.Node.Shape.ElementCount());
        Assert.InRange(frozen, 10_000_000, 11_000_000);
        Assert.Equal(6 * ((384 * 8 + 8 * 1152) + (384 * 8 + 8 * 384) + (384 * 8 + 8 * 1536)), trainable);
        Assert.True(trainable <= 0.02 * frozen, $"{trainable} of {frozen}");
    }
}

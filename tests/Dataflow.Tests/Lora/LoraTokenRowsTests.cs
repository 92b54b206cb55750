using Dataflow.Backends.Cpu;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Optim;
using Dataflow.Engine.Sessions;
using Dataflow.Graph.Checkpoints;
using Dataflow.Graph.Dsl;
using Dataflow.Graph.Ir;
using Dataflow.Graph.Lora;
using Dataflow.Tests.Autodiff;
using Dataflow.Tests.LanguageModels;
using Dataflow.Tests.Support;
using Dataflow.Training;

namespace Dataflow.Tests.Lora;

/// <summary>
/// LoRA's trained token rows (<c>tokens = special</c>, peft's trainable_token_indices): a zero delta on
/// chosen rows of the embedding table, so the model starts at the base, only those rows change, the
/// adapter file holds them, merging writes them into the table (tied unembedding included) and
/// unmerging takes them out, and their gradient passes the finite-difference check.
/// </summary>
public sealed class LoraTokenRowsTests
{
    private static readonly int[] Rows = [3, 9];
    private static readonly LoraConfig Config = new(4, 8, ["qkv"], Rows);
    private static readonly int[] Tokens = [1, 3, 2, 9, 3, 3, 7, 0];

    private static LoadedModel LoraGpt(bool training = false) =>
        ModelLoader.Load(TinyGpt.ModelPath, new ModelOptions(null, TinyGpt.Overrides, Training: training) { Lora = Config });

    private static float[] Read(Session session, string name)
    {
        var slot = session.Parameters.Get(name);
        return session.Parameters.Read(slot.Value, slot.Elements);
    }

    private static void Write(Session session, string name, float[] values) => session.Parameters.Write(session.Parameters.Get(name).Value, values);

    private static Session LoraSessionOn(Session baseSession, ComputeGraph baseGraph, ComputeGraph loraGraph)
    {
        var session = TinyGpt.NewSession(seed: 99);
        session.DeclareParameters(loraGraph);
        foreach (var p in baseGraph.Parameters) Write(session, p.Name, Read(baseSession, p.Name));
        return session;
    }

    [Fact]
    public void TheSpecSaysSpecialAndResolvingGivesTheTokenizersIds()
    {
        Assert.Equal(LoraSpec.SpecialTokens, LoraSpec.Parse("rank=8,targets=qkv,tokens=special").Tokens);
        Assert.Equal([4, 7], LoraSpec.Parse("tokens=special").Resolve(specialTokenIds: [7, 4]).TokenRows);
        Assert.Empty(LoraSpec.Parse("tokens=none").Resolve(new LoraSpec(Tokens: LoraSpec.SpecialTokens), [7, 4]).TokenRows);    // the flag wins over the file
        Assert.Equal([4, 7], LoraSpec.Empty.Resolve(new LoraSpec(Tokens: LoraSpec.SpecialTokens), [7, 4]).TokenRows);
        Assert.Contains("tokens 'speciel'", Assert.Throws<LoraException>(() => LoraSpec.Parse("tokens=speciel")).Message);
        Assert.Contains("'tokens' is given twice", Assert.Throws<LoraException>(() => LoraSpec.Parse("tokens=special,tokens=none")).Message);

        var stored = new Dictionary<string, string>();
        Config.WriteTo(stored);
        Assert.Equal("3,9", stored["lora.token_rows"]);
        Assert.Equal(Config, LoraConfig.ReadFrom(stored));
        var declared = ModelLoader.LoadSource("m.dfg", """
            model m(vocab = 5, d = 4)
            lora(rank = 2, targets = [linear], tokens = special)
            input tokens : i32[B, T]
            wte = embedding(vocab, d)
            y = linear(wte(tokens), 4)
            output y
            """, new ModelOptions(Training: false)).DeclaredLora!;
        Assert.Equal(LoraSpec.SpecialTokens, declared.Tokens);
    }

    [Fact]
    public void ItStartsAtTheBaseMergesIntoTheTiedTableWithinAFloatAndUnmergesBack()
    {
        using var dir = new TempDirectory();
        var baseModel = TinyGpt.Load();
        var loraModel = LoraGpt();
        using var baseSession = TinyGpt.NewSession();
        baseSession.DeclareParameters(baseModel.Graph);
        SessionCheckpoint.Save(baseSession, baseModel.Graph, dir.File("base.ckpt"), new Dictionary<string, string>(), []);
        using var lora = LoraSessionOn(baseSession, baseModel.Graph, loraModel.Graph);
        Assert.All(Read(lora, "wte.token_rows"), v => Assert.Equal(0f, v));
        Assert.Equal(TinyGpt.FullLogits(baseSession, baseModel, Tokens), TinyGpt.FullLogits(lora, loraModel, Tokens));

        int seed = 5;
        foreach (var p in loraModel.Graph.TrainableParameters)
            Write(lora, p.Name, TestGraphs.RandomValues(seed++, p.Node.Shape.ElementCount(), -0.3, 0.3));
        SessionAdapter.Save(lora, loraModel.Graph, Config, dir.File("base.ckpt"), dir.File("adapter.ckpt"));
        var adapter = LoraAdapter.Read(dir.File("adapter.ckpt"));
        Assert.Equal(Config, adapter.Config);
        Assert.Equal([2L, 16], adapter.Tensors.Single(t => t.Name == "wte.token_rows").Shape);

        var baseCheckpoint = CheckpointReader.Load(dir.File("base.ckpt"));
        var merged = LoraMerge.Merge(baseCheckpoint, adapter);
        CheckpointWriter.Save(dir.File("merged.ckpt"), merged);
        using var mergedSession = TinyGpt.NewSession();
        SessionCheckpoint.Load(mergedSession, baseModel.Graph, dir.File("merged.ckpt"));
        var expected = TinyGpt.FullLogits(lora, loraModel, Tokens);
        Assert.True(expected.Zip(TinyGpt.FullLogits(mergedSession, baseModel, Tokens)).Max(p => Math.Abs(p.First - p.Second)) <= 1e-5);

        // The table changes on rows 3 and 9 only, by exactly the delta.
        int d = 16;
        var (before, after, delta) = (baseCheckpoint.Tensors.First(t => t.Name == "wte.weight").AsFloats(),
            merged.Tensors.First(t => t.Name == "wte.weight").AsFloats(), Read(lora, "wte.token_rows"));
        for (int row = 0; row < TinyGpt.Vocab; row++)
            for (int j = 0; j < d; j++)
            {
                int k = Array.IndexOf(Rows, row);
                Assert.Equal(k < 0 ? before[row * d + j] : before[row * d + j] + delta[k * d + j], after[row * d + j]);
            }

        var restored = LoraMerge.Unmerge(CheckpointReader.Load(dir.File("merged.ckpt")), adapter).Tensors.ToDictionary(t => t.Name);
        foreach (var original in baseCheckpoint.Tensors)
            Assert.True(original.AsFloats().Zip(restored[original.Name].AsFloats()).All(p => Math.Abs(p.First - p.Second) <= 1e-6), $"{original.Name} is not restored");
    }

    [Fact]
    public void TrainingChangesOnlyTheAdaptersAndTheDeclaredRowsAndTheBaseStaysBitIdentical()
    {
        var model = LoraGpt(training: true);
        using var session = new Session(new CpuBackend(), seed: 5) { Optimizer = new OptimizerConfig { Kind = OptimizerKind.AdamW, LearningRate = 0.05, WeightDecay = 0.1 } };
        session.DeclareParameters(model.Graph);
        var before = model.Graph.Parameters.ToDictionary(p => p.Name, p => Read(session, p.Name));
        var inputs = LanguageModelInputs.Of(model.Graph);
        var step = session.Compile(StepGraph.ForTraining(model.Graph, withGradNorm: true), inputs.Bindings(2, TinyGpt.Context));
        var random = new Random(2);
        for (int i = 0; i < 5; i++)
        {
            var tokens = Enumerable.Range(0, 2 * TinyGpt.Context).Select(_ => random.Next(TinyGpt.Vocab)).ToArray();
            session.TrainStep(step, new Dictionary<string, Array> { [inputs.Tokens] = tokens, [inputs.Targets] = tokens.Reverse().ToArray() });
        }
        Assert.Equal(["decoder.0.attention.qkv.lora_a", "decoder.0.attention.qkv.lora_b", "decoder.1.attention.qkv.lora_a", "decoder.1.attention.qkv.lora_b", "wte.token_rows"],
            model.Graph.TrainableParameters.Select(p => p.Name).Order());
        Assert.NotEqual(before["wte.token_rows"], Read(session, "wte.token_rows"));
        foreach (var p in model.Graph.Parameters.Where(p => !p.Trainable))
        {
            Assert.Empty(session.Parameters.Get(p.Name).State);
            Assert.Equal(before[p.Name], Read(session, p.Name));    // wte.weight included: the rows train through the delta
        }
    }

    [Fact]
    public void TheTokenRowsGradientPassesTheFiniteDifferenceCheck()
    {
        const string source = """
            model snippet(vocab = 6, d = 4)
            input tokens : i32[B, T]
            wte = embedding(vocab, d)
            y = unembed(linear(wte(tokens), d), tied = wte)
            loss = mean(y * y, [0, 1, 2])
            """;
        var graph = ModelLoader.LoadSource("snippet.dfg", source, new ModelOptions(Training: true) { Lora = new LoraConfig(2, 3, ["linear"], [1, 4]) }).Graph;
        var values = new Dictionary<string, float[]>();
        int seed = 21;
        foreach (var p in graph.Parameters)
            values[p.Name] = TestGraphs.RandomValues(seed++, p.Node.Shape.ElementCount(), -0.5, 0.5);
        Assert.Equal(["linear.lora_a", "linear.lora_b", "wte.token_rows"], StepGraph.ForTraining(graph, withGradNorm: false).Gradients.Keys.Order());
        var sizes = new Dictionary<string, long> { ["B"] = 2, ["T"] = 3 };
        FiniteDifference.Check(graph, values, new Dictionary<string, Array> { ["tokens"] = new[] { 1, 4, 0, 4, 2, 1 } }, sizes);
    }

    [Fact]
    public void TokenRowsOnAModelWithoutAnEmbeddingAreRefused()
    {
        const string source = """
            model m(d = 4)
            input x : f32[B, T, 4]
            y = linear(x, d)
            output y
            """;
        var error = Assert.ThrowsAny<Exception>(() => ModelLoader.LoadSource("m.dfg", source, new ModelOptions(Training: false) { Lora = new LoraConfig(2, 3, ["linear"], [1]) }));
        Assert.Contains("no embedding", error.Message);
    }
}

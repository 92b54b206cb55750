using Dataflow.Backends.Cpu;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Optim;
using Dataflow.Engine.Sessions;
using Dataflow.Generation;
using Dataflow.Graph.Checkpoints;
using Dataflow.Graph.Dsl;
using Dataflow.Graph.Ir;
using Dataflow.Graph.Lora;
using Dataflow.Tests.LanguageModels;
using Dataflow.Tests.Support;
using Dataflow.Tests.Training;
using Dataflow.Training;

namespace Dataflow.Tests.Lora;

/// <summary>
/// Training with LoRA: the base is frozen (unchanged to the bit, no optimizer state), a run from a base
/// checkpoint writes a small adapter file that lowers the loss, and an adapter is refused on another base.
/// </summary>
public sealed class LoraTrainingTests
{
    private static readonly LoraConfig Config = new(4, 8, ["qkv", "proj", "fc", "mlp_proj"]);

    private static float[] Read(Session session, string name)
    {
        var slot = session.Parameters.Get(name);
        return session.Parameters.Read(slot.Value, slot.Elements);
    }

    [Fact]
    public void AdamWStepsChangeOnlyTheAdaptersAndGiveTheBaseNoOptimizerState()
    {
        var model = ModelLoader.Load(TinyGpt.ModelPath, new ModelOptions(null, TinyGpt.Overrides, Training: true) { Lora = Config });
        using var session = new Session(new CpuBackend(), seed: 5) { Optimizer = new OptimizerConfig { Kind = OptimizerKind.AdamW, LearningRate = 0.05, WeightDecay = 0.1 } };
        session.DeclareParameters(model.Graph);
        var before = model.Graph.Parameters.ToDictionary(p => p.Name, p => Read(session, p.Name));
        var inputs = LanguageModelInputs.Of(model.Graph);
        var step = session.Compile(StepGraph.ForTraining(model.Graph, withGradNorm: true), inputs.Bindings(2, TinyGpt.Context));
        var random = new Random(1);
        for (int i = 0; i < 5; i++)
        {
            var tokens = Enumerable.Range(0, 2 * TinyGpt.Context).Select(_ => random.Next(TinyGpt.Vocab)).ToArray();
            session.TrainStep(step, new Dictionary<string, Array> { [inputs.Tokens] = tokens, [inputs.Targets] = tokens.Reverse().ToArray() });
        }

        foreach (var p in model.Graph.Parameters)
        {
            var slot = session.Parameters.Get(p.Name);
            if (p.Trainable)
            {
                Assert.Equal(2, slot.State.Length);
                if (p.Name.EndsWith(".lora_b", StringComparison.Ordinal)) Assert.NotEqual(before[p.Name], Read(session, p.Name));
            }
            else
            {
                Assert.Empty(slot.State);
                Assert.Equal(before[p.Name], Read(session, p.Name));    // float equality is bitwise here: no NaNs
            }
        }
    }

    [Fact]
    public void ALoraRunFromABaseWritesASmallAdapterThatLowersTheLossAndFitsOnlyThatBase()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("text.txt"), TinyGpt.RepetitiveText(6000));
        LanguageModelSettings Settings(int steps, string checkpoint) => new()
        {
            ModelPath = TinyGpt.ModelPath, TextPath = dir.File("text.txt"), Steps = steps, Batch = 8, LearningRate = 1e-2, MinLearningRate = 1e-3,
            Warmup = 2, EvalInterval = steps, EvalIters = 2, CheckpointPath = dir.File(checkpoint),
            Overrides = new Dictionary<string, string> { ["layers"] = "2", ["heads"] = "2", ["d"] = "32", ["ctx"] = "16", ["dropout"] = "0" },
        };
        Trainer.Run(LanguageModelRun.Plan(Settings(20, "base.ckpt")).Plan, new CpuBackend(), new RecordingObserver());
        Trainer.Run(LanguageModelRun.Plan(Settings(20, "other.ckpt") with { Seed = 2 }).Plan, new CpuBackend(), new RecordingObserver());

        // The base's --set values come from its checkpoint: the LoRA run names none.
        var (plan, description) = LanguageModelRun.Plan(Settings(40, "adapter.ckpt") with
        {
            Overrides = new Dictionary<string, string>(), FromPath = dir.File("base.ckpt"), Lora = LoraSpec.Parse("rank=4,targets=qkv,proj,fc"),
        });
        // 2 layers × (qkv 32·4 + 4·96, proj 32·4 + 4·32, fc 32·4 + 4·128)
        Assert.Contains("LoRA 6 adapters: 2,816 trainable parameters", description);
        Trainer.Run(plan, new CpuBackend(), new RecordingObserver());

        var adapter = LoraAdapter.Read(dir.File("adapter.ckpt"));
        Assert.Equal((4, 16.0), (adapter.Config.Rank, adapter.Config.Alpha));
        Assert.All(adapter.Tensors, t => Assert.Contains(".lora_", t.Name));
        Assert.Empty(adapter.Checkpoint.OptimizerState);
        var baseLoss = LanguageModelEvaluator.EvaluateCheckpoint(TinyGpt.ModelPath, dir.File("base.ckpt"), dir.File("text.txt"), new CpuBackend()).Loss;
        var adaptedLoss = LanguageModelEvaluator.EvaluateCheckpoint(TinyGpt.ModelPath, dir.File("base.ckpt"), dir.File("text.txt"), new CpuBackend(), dir.File("adapter.ckpt")).Loss;
        Assert.True(adaptedLoss < baseLoss, $"adapted {adaptedLoss} vs base {baseLoss}");

        var refused = Assert.Throws<CheckpointException>(() => CheckpointModel.Open(dir.File("other.ckpt"), new CpuBackend(), adapterPath: dir.File("adapter.ckpt")));
        Assert.Contains(dir.File("adapter.ckpt"), refused.Message);
        Assert.Contains(dir.File("other.ckpt"), refused.Message);
        Assert.Contains("trained on the base " + dir.File("base.ckpt"), refused.Message);
        var opened = CheckpointModel.Open(dir.File("base.ckpt"), new CpuBackend(), adapterPath: dir.File("adapter.ckpt"));
        using (opened.Session) Assert.Equal(adapter.Config, opened.Config.Lora);
    }

    [Fact]
    public void TheAdapterFileIsUnderFivePercentOfTheFullCheckpointOfTheBabyGpt()
    {
        using var dir = new TempDirectory();
        // graph/models/gpt.dfg at nanoGPT's CPU "baby" shape, 0.81M parameters.
        var overrides = new Dictionary<string, string> { ["vocab"] = "65", ["layers"] = "4", ["heads"] = "4", ["d"] = "128", ["ctx"] = "64", ["dropout"] = "0" };
        var baseModel = ModelLoader.Load(TinyGpt.ModelPath, new ModelOptions(null, overrides, Training: false));
        var loraModel = ModelLoader.Load(TinyGpt.ModelPath, new ModelOptions(null, overrides, Training: false) { Lora = LoraSpec.Empty.Resolve() });
        using var session = new Session(new CpuBackend(), seed: 1) { Optimizer = new OptimizerConfig { Kind = OptimizerKind.AdamW } };
        session.DeclareParameters(baseModel.Graph);
        session.Parameters.EnsureState(session.Optimizer.StateTensors);    // as training writes it: weights and both moments
        SessionCheckpoint.Save(session, baseModel.Graph, dir.File("full.ckpt"), new Dictionary<string, string>(), []);
        session.DeclareParameters(loraModel.Graph);
        SessionAdapter.Save(session, loraModel.Graph, LoraSpec.Empty.Resolve(), dir.File("full.ckpt"), dir.File("adapter.ckpt"));

        long full = new FileInfo(dir.File("full.ckpt")).Length, adapter = new FileInfo(dir.File("adapter.ckpt")).Length;
        Assert.True(adapter <= 0.05 * full, $"adapter {adapter} bytes vs full {full}");
        Assert.Equal(4 * (128 * 8 + 8 * 384 + 128 * 8 + 8 * 128), loraModel.Graph.TrainableParameters.Sum(p => p.Node.Shape.ElementCount()));
    }
}

using Dataflow.Backends.Cpu;
using Dataflow.Engine.Sessions;
using Dataflow.Graph.Checkpoints;
using Dataflow.Graph.Dsl;
using Dataflow.Training.Tasks;
using Dataflow.Training;
using Dataflow.Tests.Dsl;
using Dataflow.Tests.Support;

namespace Dataflow.Tests.Seq2Seq;

public sealed class GreedyDecodingTests
{
    /// <summary>A small, fast variant of transformer.dfg's tiny preset.</summary>
    private static readonly string[] Small = ["layers=2", "d=32", "d_ff=64", "heads=2", "dropout=0"];

    [Fact]
    public void Decoding_with_pad_after_the_prefix_equals_decoding_the_growing_prefix()
    {
        // The decoder's self-attention is causal, so one graph of the full target length gives, at
        // position t, what a graph of length t + 1 gives: checked here on an untrained model.
        var model = DslTestSupport.LoadModel("transformer.dfg", "tiny", CliOverrides(Small), training: false);
        var inputs = Seq2SeqInputs.Of(model.Graph);
        using var session = new Session(new CpuBackend(), seed: 4);
        var inference = StepGraph.ForwardOnly(model.Graph);
        var heldOut = HeldOutSet.Create(new ReverseTask(6, 6), perLength: 8);
        var batch = Seq2SeqBatch.From(heldOut.Samples);

        var decoded = GreedyDecoder.Decode(session, session.Compile(inference, inputs.Bindings(batch)), batch, inputs.Vocabulary);

        for (int b = 0; b < batch.Count; b++)
        {
            var prefix = new List<int> { TransductionVocabulary.Bos };
            for (int t = 0; t < batch.TargetLength; t++)
            {
                var row = new Seq2SeqBatch(1, batch.SourceLength, prefix.Count, batch.Source[(b * batch.SourceLength)..((b + 1) * batch.SourceLength)],
                    prefix.ToArray(), new int[prefix.Count]);
                var logits = session.Run(session.Compile(inference, inputs.Bindings(row)), Seq2SeqInputs.Feed(row), [Seq2SeqInputs.Logits]).Results[Seq2SeqInputs.Logits];
                int token = ClassifierEvaluator.ArgMax(logits.AsSpan(t * inputs.Vocabulary, inputs.Vocabulary));
                Assert.Equal(token, decoded[b * batch.TargetLength + t]);
                if (token == TransductionVocabulary.Eos) break;
                prefix.Add(token);
            }
        }
    }

    [Fact]
    public void A_few_hundred_steps_learn_to_reverse_short_strings_and_the_checkpoint_evaluates_the_same()
    {
        using var dir = new TempDirectory();
        var settings = new Seq2SeqSettings
        {
            ModelPath = DslTestSupport.ModelPath("transformer.dfg"),
            Task = "reverse",
            MinLength = 5,
            MaxLength = 6,
            Steps = 300,
            Batch = 32,
            LearningRate = 0.01,
            Warmup = 50,
            EvalEvery = 300,   // evaluate once, at the end: greedy decoding is most of a Debug run's time
            EvalPerLength = 32,
            Preset = "tiny",
            Overrides = CliOverrides(Small),
            CheckpointPath = dir.File("reverse.ckpt"),
        };
        var result = Trainer.Run(Seq2SeqRun.Plan(settings), new CpuBackend());

        Assert.Equal(300, result.Steps);
        Assert.True(result.ValidationAccuracy >= 0.9, $"exact match {result.ValidationAccuracy:F3} after 300 steps (val loss {result.ValidationLoss:F3})");
        // The tiny preset says average = 5: the checkpoint holds the mean of the last five snapshots.
        Assert.Equal("5", CheckpointReader.ReadHeader(settings.CheckpointPath).Config["averaged_snapshots"]);
        var model = DslTestSupport.LoadModel("transformer.dfg", "tiny", CliOverrides(Small), training: false);
        var metrics = Seq2SeqEvaluator.EvaluateCheckpoint(model, settings.CheckpointPath, task: null, new CpuBackend());
        Assert.Equal("reverse", metrics.Task);
        Assert.Equal(result.ValidationAccuracy, metrics.ExactMatch);
        Assert.Equal([5, 6], metrics.PerLength.Select(p => p.Length));
        Assert.Equal(64, metrics.Count);
    }

    private static Dictionary<string, string> CliOverrides(string[] pairs) =>
        pairs.Select(p => p.Split('=')).ToDictionary(p => p[0], p => p[1]);
}

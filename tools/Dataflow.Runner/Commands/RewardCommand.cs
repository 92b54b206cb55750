using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Dataflow.Backends;
using Dataflow.Chat;
using Dataflow.Chat.Preferences;
using Dataflow.Reinforcement;
using Dataflow.Runner.Cli;
using Dataflow.Runner.Progress;
using Dataflow.Training;

namespace Dataflow.Runner.Commands;

/// <summary>
/// <c>dataflow reward --from SFT.ckpt|BASE.ckpt --data synthetic|pairs.jsonl --checkpoint rm.ckpt</c>: a
/// Bradley–Terry reward model (<see cref="ChatRewardModelRun"/>) on the language model's trunk with a
/// fresh scalar head, reporting held-out pairwise accuracy; <c>rl --reward-model</c> uses what it writes.
/// </summary>
public static class RewardCommand
{
    public const double DefaultLearningRate = 1e-4;
    public const long DefaultSteps = 150;    // measured: held-out pairs 0.970 after 150 (README)

    public static Command Create()
    {
        var from = new Option<string>("--from") { Description = "The language model whose trunk the reward model starts from (an sft or base checkpoint); its tokenizer, size and context too", Required = true };
        var model = new Option<string?>("--model") { Description = "The reward model's file, with reward = value_head(h) (default: graph/models/reward.dfg of this checkout)" };
        var pairs = new PreferenceFlags(ChatPreferenceData.Templated, DefaultSteps);
        var checkpoint = new Option<string?>("--checkpoint") { Description = "Save the reward model here (atomically) at every evaluation" };
        var (batch, steps) = (pairs.Batch, pairs.Steps);
        var lr = new Option<double>("--lr") { Description = "Learning rate (constant; the whole model trains, from the language model's trunk and fresh heads)", DefaultValueFactory = _ => DefaultLearningRate };
        var evalInterval = new Option<long>("--eval-interval") { Description = "Held-out pairwise accuracy (and checkpoint) every N steps", DefaultValueFactory = _ => 25 };
        var log = new Option<string?>("--log") { Description = "Write metrics here as JSON lines (the Bradley–Terry loss per step, held-out accuracy per evaluation)" };
        var (seed, json, backend) = (CommonOptions.Seed(), CommonOptions.Json(), CommonOptions.Backend());
        var command = new Command("reward", "Train a reward model (a scalar head on a language model's trunk) on preference pairs")
        {
            from, model, checkpoint, lr, evalInterval, log, seed, json, backend,
        };
        foreach (var option in pairs.All) command.Options.Add(option);
        command.SetAction(r =>
        {
            string fromPath = r.GetValue(from)!;
            var trunk = LanguageModelCheckpoint.Read(fromPath);
            string modelPath = r.GetValue(model) ?? Path.Combine(DemoCommand.RepositoryRoot(), "graph", "models", "reward.dfg");
            string source;
            try { source = File.ReadAllText(modelPath); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new UsageException($"--model {modelPath}: cannot read it: {e.Message}"); }
            int seedValue = r.GetValue(seed);
            var data = pairs.Load(r, new ChatRenderer(new ChatTokens(trunk.Tokenizer)), seedValue, fromPath, r.GetValue(backend)!);
            var plan = ChatRewardModelRun.Plan(new RewardModelSettings
            {
                PairsPerStep = r.GetValue(batch), Steps = r.GetValue(steps), EvalEvery = r.GetValue(evalInterval),
                LearningRate = r.GetValue(lr), Seed = seedValue, FromCheckpoint = fromPath, CheckpointPath = r.GetValue(checkpoint),
            }, trunk, Path.GetFileName(modelPath), source, data);
            bool asJson = r.GetValue(json);
            var progress = ConsoleProgress.Create(asJson);
            progress.Line($"reward model {Path.GetFileName(modelPath)} on the trunk of {fromPath}: {data.Description}; {r.GetValue(batch)} pairs per step");
            var evaluations = new EvaluationRecorder();
            using var metrics = r.GetValue(log) is { } path ? new JsonlMetricsObserver(path) : null;
            ITrainingObserver[] observers = metrics is null ? [progress, evaluations] : [progress, evaluations, metrics];
            var result = progress.Show(() => Trainer.Run(plan, BackendCatalog.Create(r.GetValue(backend)!), observers));
            var report = PreferenceReport.Of(evaluations.First!, evaluations.Last!, RewardModelRun.HeldOutAccuracy, [], data.HeldOutTasks?.Distinct());
            report.Print(progress, result, asJson);
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>The first and the last evaluation of a run (before the first step and after the last).</summary>
    private sealed class EvaluationRecorder : ITrainingObserver
    {
        public Evaluation? First { get; private set; }
        public Evaluation? Last { get; private set; }

        public void OnEvaluation(EvaluationReport report)
        {
            First ??= report.Evaluation;
            Last = report.Evaluation;
        }
    }
}

using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Dataflow.Backends;
using Dataflow.Chat;
using Dataflow.Chat.Preferences;
using Dataflow.Chat.Tasks;
using Dataflow.Reinforcement;
using Dataflow.Runner.Cli;
using Dataflow.Runner.Progress;
using Dataflow.Training;

namespace Dataflow.Runner.Commands;

/// <summary>
/// <c>dataflow dpo --from SFT.ckpt --data synthetic|templated|sampled|pairs.jsonl --checkpoint OUT</c>: DPO of a chat
/// model (<see cref="ChatDpoRun"/>): each step logs the implicit rewards, their margin and accuracy; the
/// held-out pairs' and the tasks' held-out accuracy are reported before and after.
/// </summary>
public static class DpoCommand
{
    // The measured recipe (README, "Learning from preferences"): on-policy pairs from 150 training / 40 held-out
    // problems per task, the chosen replies' NLL at weight 2 beside the DPO loss, a small constant learning
    // rate, 150 steps. Plain DPO (α 0, lr 1e-4) on templated pairs was measured to lower the policy's accuracy.
    public const double DefaultLearningRate = 3e-5;
    public const double DefaultRpoAlpha = 2;
    public const long DefaultSteps = 150;
    public const int DefaultProblems = 150, DefaultHeldOutProblems = 40;

    public static Command Create()
    {
        var from = new Option<string>("--from") { Description = "The policy to start from, also the frozen reference (an sft checkpoint)", Required = true };
        var pairs = new PreferenceFlags(SampledPreferences.DataName, DefaultSteps, DefaultProblems, DefaultHeldOutProblems);
        var checkpoint = new Option<string?>("--checkpoint") { Description = "Save the trained policy here (atomically) at every evaluation" };
        var beta = new Option<double>("--beta") { Description = "β: how far the implicit reward β·(log π − log π_ref) lets the policy move from the reference", DefaultValueFactory = _ => 0.1 };
        var rpoAlpha = new Option<double>("--rpo-alpha") { Description = "Weight of the chosen replies' per-token NLL added to the DPO loss (TRL's rpo_alpha; 0: plain DPO), which keeps DPO from lowering the chosen replies' likelihood", DefaultValueFactory = _ => DefaultRpoAlpha };
        var (batch, steps) = (pairs.Batch, pairs.Steps);
        var lr = new Option<double>("--lr") { Description = "Learning rate (constant; DPO moves an SFT policy, so far below the model file's)", DefaultValueFactory = _ => DefaultLearningRate };
        var evalInterval = new Option<long>("--eval-interval") { Description = "Held-out pair metrics (and checkpoint) every N steps", DefaultValueFactory = _ => 25 };
        var evalCount = new Option<int>("--eval-count") { Description = "Held-out problems per task in the accuracy before and after (0: none); the tasks are the pairs' with --data synthetic, templated or sampled", DefaultValueFactory = _ => 200 };
        var log = new Option<string?>("--log") { Description = "Write metrics here as JSON lines (per step: dpo_loss, reward_chosen, reward_rejected, margin, accuracy)" };
        var (seed, json, backend) = (CommonOptions.Seed(), CommonOptions.Json(), CommonOptions.Backend());
        var command = new Command("dpo", "Direct preference optimisation of a chat model on preference pairs (the starting policy is the reference)")
        {
            from, checkpoint, beta, rpoAlpha, lr, evalInterval, evalCount, log, seed, json, backend,
        };
        foreach (var option in pairs.All) command.Options.Add(option);
        command.SetAction(r =>
        {
            if (r.GetValue(evalCount) < 0) throw new UsageException($"--eval-count {r.GetValue(evalCount)}: must be 0 or more");
            string fromPath = r.GetValue(from)!;
            var policy = LanguageModelCheckpoint.Read(fromPath);
            int seedValue = r.GetValue(seed);
            var data = pairs.Load(r, new ChatRenderer(new ChatTokens(policy.Tokenizer)), seedValue, fromPath, r.GetValue(backend)!);
            var tasks = pairs.FromTasks(r) && r.GetValue(evalCount) > 0 ? pairs.ChatTasksOf(r) : [];
            var run = ChatDpoRun.Create(new DpoSettings
            {
                Beta = r.GetValue(beta), RpoAlpha = r.GetValue(rpoAlpha), PairsPerStep = r.GetValue(batch), Steps = r.GetValue(steps), EvalEvery = r.GetValue(evalInterval),
                LearningRate = r.GetValue(lr), Seed = seedValue, FromCheckpoint = fromPath, CheckpointPath = r.GetValue(checkpoint),
            }, policy, data, tasks, r.GetValue(evalCount));
            bool asJson = r.GetValue(json);
            var progress = ConsoleProgress.Create(asJson);
            progress.Line(string.Create(CultureInfo.InvariantCulture, $"dpo from {fromPath}: {data.Description}; β {r.GetValue(beta)}, rpo α {r.GetValue(rpoAlpha)}, {r.GetValue(batch)} pairs per step"));
            using var metrics = r.GetValue(log) is { } path ? new JsonlMetricsObserver(path) : null;
            ITrainingObserver[] observers = metrics is null ? [progress] : [progress, metrics];
            var result = progress.Show(() => Trainer.Run(run.Plan, BackendCatalog.Create(r.GetValue(backend)!), observers));
            var report = PreferenceReport.Of(run.Before!, run.After!, PreferenceMetrics.HeldOutPrefix + PreferenceMetrics.Accuracy, tasks.Select(t => t.Name));
            report.Print(progress, result, asJson);
            return ExitCodes.Ok;
        });
        return command;
    }
}

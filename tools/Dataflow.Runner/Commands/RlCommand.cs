using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Dataflow.Backends;
using Dataflow.Chat.Rl;
using Dataflow.Chat.Tasks;
using Dataflow.Generation;
using Dataflow.Reinforcement;
using Dataflow.Runner.Cli;
using Dataflow.Runner.Progress;
using Dataflow.Training;

namespace Dataflow.Runner.Commands;

/// <summary>
/// <c>dataflow rl --from SFT.ckpt --task T --checkpoint OUT</c>: GRPO (<see cref="GrpoRun"/>) on a chat
/// task's training problems, rewarded 1 when the task's verifier accepts the reply, evaluated greedily
/// on its held-out problems (the questions <c>eval --chat-task</c> asks). With <c>--reward-model</c> a reward model
/// (<c>dataflow reward</c>) rewards the training rollouts instead; the held-out pass@1 stays the verifier's.
/// </summary>
public static class RlCommand
{
    /// <summary>Tasks whose replies need no tool: rollouts do not run the calculator.</summary>
    private static readonly string[] Tasks = [.. ChatTasks.Names.Where(n => n != "tool-arithmetic")];

    public static Command Create()
    {
        var from = new Option<string>("--from") { Description = "The policy to start from (an sft checkpoint)", Required = true };
        var task = new Option<string>("--task") { Description = $"The chat task to practise ({string.Join(" | ", Tasks)})", Required = true };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "Save the trained policy here (atomically) at every evaluation" };
        var group = new Option<int>("--group") { Description = "Completions sampled per prompt (advantages are normalised within each group)", DefaultValueFactory = _ => 16 };
        var promptsPerStep = new Option<int>("--prompts-per-step") { Description = "Prompts per optimizer step", DefaultValueFactory = _ => 8 };
        var kl = new Option<double>("--kl") { Description = "β of the KL penalty to the frozen starting policy (0: none, no reference kept)", DefaultValueFactory = _ => 0 };
        var clip = new Option<double>("--clip") { Description = "ε of the clipped ratio, 1 ± ε", DefaultValueFactory = _ => 0.2 };
        var steps = new Option<long?>("--steps") { Description = "Optimizer steps (default: the model file's train(rl_steps = …), else 100)" };
        var lr = new Option<double?>("--lr") { Description = "Learning rate (default: the model file's train(rl_lr = …), else a tenth of its optimizer's)" };
        var evalInterval = new Option<long>("--eval-interval") { Description = "Held-out pass@1 (and checkpoint) every N steps", DefaultValueFactory = _ => 10 };
        var evalCount = new Option<int>("--eval-count") { Description = "Held-out problems in each evaluation", DefaultValueFactory = _ => 200 };
        var trainProblems = new Option<int>("--train-problems") { Description = "Training problems drawn from the task (cycled through)", DefaultValueFactory = _ => 2000 };
        var maxTokens = new Option<int>("--max-tokens") { Description = "The longest completion (3-digit column working is about 34 tokens)", DefaultValueFactory = _ => ChatTaskGrpo.MaxTokens };
        var temperature = new Option<double>("--temperature") { Description = "Sampling temperature of the rollouts (0.7: most groups neither all right nor all wrong)", DefaultValueFactory = _ => ChatTaskGrpo.Temperature };
        var rewardModel = new Option<string?>("--reward-model") { Description = "Reward the training rollouts with this reward model (written by dataflow reward from the same tokenizer) instead of the task's verifier; the held-out pass@1 still uses the verifier" };
        var log = new Option<string?>("--log") { Description = "Write metrics here as JSON lines (mean reward, pass@1, pass@G, KL, completion length, skipped groups per step)" };
        var (seed, json, backend) = (CommonOptions.Seed(), CommonOptions.Json(), CommonOptions.Backend());
        var command = new Command("rl", "Reinforcement learning (GRPO) of a chat model on a task whose answers can be checked")
        {
            from, task, checkpoint, group, promptsPerStep, kl, clip, steps, lr, evalInterval, evalCount, trainProblems, maxTokens, temperature, rewardModel, log, seed, json, backend,
        };
        command.SetAction(r =>
        {
            string taskName = r.GetValue(task)!;
            if (!Tasks.Contains(taskName)) throw new UsageException($"--task {taskName}: expected one of {string.Join(", ", Tasks)}");
            foreach (var (name, value) in new[] { ("--eval-count", r.GetValue(evalCount)), ("--train-problems", r.GetValue(trainProblems)), ("--max-tokens", r.GetValue(maxTokens)) })
                if (value < 1) throw new UsageException($"{name} {value}: must be at least 1");
            string fromPath = r.GetValue(from)!;
            var chatTask = ChatTasks.Create(taskName, () => WordList.Load());
            string backendName = r.GetValue(backend)!;
            var recipe = LanguageModelCheckpoint.Read(fromPath).Config.Load(training: false).Training;
            var settings = new GrpoSettings
            {
                Group = r.GetValue(group), PromptsPerStep = r.GetValue(promptsPerStep), Clip = r.GetValue(clip), Beta = r.GetValue(kl),
                Steps = r.GetValue(steps) ?? ChatTaskGrpo.Steps(recipe), EvalEvery = r.GetValue(evalInterval), LearningRate = r.GetValue(lr) ?? ChatTaskGrpo.LearningRate(recipe), Seed = r.GetValue(seed),
                FromCheckpoint = fromPath, CheckpointPath = r.GetValue(checkpoint),
                Rollout = ChatTaskGrpo.Rollout(r.GetValue(maxTokens), r.GetValue(temperature)),
            };
            using var scorer = r.GetValue(rewardModel) is { } rewardPath ? OpenRewardModel(rewardPath, LanguageModelCheckpoint.Read(fromPath).Tokenizer, backendName) : null;
            var planned = ChatTaskGrpo.Plan(chatTask, settings, r.GetValue(trainProblems), r.GetValue(evalCount), () => BackendCatalog.Create(backendName),
                scorer is null ? null : scorer.AsReward);
            using var grpo = planned.Plan;
            var (train, heldOut) = (planned.Train, planned.HeldOut);
            bool asJson = r.GetValue(json);
            var progress = ConsoleProgress.Create(asJson);
            progress.Line($"rl {taskName} from {fromPath}{(scorer is null ? "" : $", rewarded by the reward model {r.GetValue(rewardModel)}")}: group {r.GetValue(group)} × {r.GetValue(promptsPerStep)} prompts per step, {train.Prompts.Count} training / {heldOut.Prompts.Count} held-out problems");
            using var metrics = r.GetValue(log) is { } path ? new JsonlMetricsObserver(path) : null;
            ITrainingObserver[] observers = metrics is null ? [progress] : [progress, metrics];
            var result = progress.Show(() => Trainer.Run(grpo.Plan, BackendCatalog.Create(backendName), observers));
            progress.Line(string.Create(CultureInfo.InvariantCulture, $"done: {result.Steps} steps in {result.Seconds:F1} s; held-out pass@1 {result.ValidationAccuracy:F4}"));
            if (asJson)
                Console.WriteLine(new JsonObject { ["task"] = taskName, ["steps"] = result.Steps, ["pass_at_1"] = result.ValidationAccuracy, ["seconds"] = result.Seconds }.ToJsonString());
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>A reward model for the policy's rollouts: it must read the policy's tokens, so its tokenizer must be the policy's.</summary>
    private static RewardModelScorer OpenRewardModel(string path, Engine.Tokenizers.ITokenizer policyTokenizer, string backendName)
    {
        var scorer = RewardModelScorer.Open(path, BackendCatalog.Create(backendName));
        var stored = Graph.Checkpoints.CheckpointReader.Load(path).TokenizerJson;
        if (stored != policyTokenizer.ToJson())
        {
            scorer.Dispose();
            throw new UsageException($"--reward-model {path}: its tokenizer is not the policy's, so it cannot read the policy's completions (train it with dataflow reward --from the policy or its base)");
        }
        return scorer;
    }
}

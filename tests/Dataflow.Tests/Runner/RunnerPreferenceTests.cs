using System.Text.Json;
using Dataflow.Tests.Support;

namespace Dataflow.Tests.Runner;

/// <summary>
/// dpo, reward and rl --reward-model through the runner on the tiny chat model (a couple of steps;
/// quality is not the point): the checkpoints they write open where they should, the logs carry the
/// preference metrics, and bad input is exit 1 naming what is wrong.
/// </summary>
public sealed class RunnerPreferenceTests(RunnerChatTests.TinyChatModel model) : IClassFixture<RunnerChatTests.TinyChatModel>
{
    private readonly TempDirectory _dir = model.Dir;

    private RunnerProcess.Result Run(params string[] args) => RunnerProcess.RunWith(model.Env, args);

    private static readonly string[] Small = ["--steps", "2", "--eval-interval", "1", "--pairs", "16", "--heldout-pairs", "5", "--batch", "2"];

    [Fact]
    public void Dpo_logs_margins_reports_before_and_after_and_writes_a_policy_eval_reads()
    {
        var run = Run(["dpo", "--from", _dir.File("sft.ckpt"), "--data", "templated", "--rpo-alpha", "0", .. Small, "--eval-count", "2", "--tasks", "arithmetic,greetings",
            "--write-pairs", _dir.File("pairs.jsonl"), "--log", _dir.File("dpo.jsonl"), "--checkpoint", _dir.File("dpo.ckpt"), "--json"]);
        Assert.True(run.ExitCode == 0, run.ToString());
        var summary = JsonDocument.Parse(run.Stdout).RootElement;
        Assert.Equal(2, summary.GetProperty("steps").GetInt64());
        foreach (var key in new[] { "heldout_pair_accuracy", "arithmetic", "greetings" })
        {
            Assert.InRange(summary.GetProperty(key).GetProperty("before").GetDouble(), 0, 1);
            Assert.InRange(summary.GetProperty(key).GetProperty("after").GetDouble(), 0, 1);
        }
        // Before the first step the policy is its own reference: every implicit reward is 0.
        Assert.Equal(0, summary.GetProperty("heldout_pair_accuracy").GetProperty("before").GetDouble());
        Assert.Contains("held-out pair accuracy: 0.0000 -> ", run.Stderr);

        var steps = File.ReadLines(_dir.File("dpo.jsonl")).Select(l => JsonDocument.Parse(l).RootElement)
            .Where(e => e.GetProperty("event").GetString() == "step").ToList();
        Assert.Equal(2, steps.Count);
        foreach (var key in new[] { "margin", "reward_chosen", "reward_rejected", "accuracy", "dpo_loss" })
            Assert.True(steps[0].TryGetProperty(key, out _), $"step metrics lack {key}: {steps[0]}");
        Assert.Equal(Math.Log(2), steps[0].GetProperty("dpo_loss").GetDouble(), 4);
        Assert.Equal(16, File.ReadLines(_dir.File("pairs.jsonl")).Count());

        var eval = Run("eval", "--checkpoint", _dir.File("dpo.ckpt"), "--chat-task", "arithmetic", "--count", "2", "--json");
        Assert.True(eval.ExitCode == 0, eval.ToString());

        // The written pairs train as a file does (its last tenth held out).
        var fromFile = Run(["dpo", "--from", _dir.File("sft.ckpt"), "--data", _dir.File("pairs.jsonl"), "--steps", "1", "--batch", "2"]);
        Assert.True(fromFile.ExitCode == 0, fromFile.ToString());
        Assert.Contains("15 train / 1 held-out pairs", fromFile.Stderr + fromFile.Stdout);
    }

    [Fact]
    public void A_reward_model_trains_on_the_sft_trunk_and_rewards_rl_rollouts()
    {
        var reward = Run(["reward", "--from", _dir.File("sft.ckpt"), "--model", RunnerProcess.Model("reward.dfg"), "--data", "synthetic", .. Small,
            "--log", _dir.File("rm.jsonl"), "--checkpoint", _dir.File("rm.ckpt"), "--json"]);
        Assert.True(reward.ExitCode == 0, reward.ToString());
        var accuracy = JsonDocument.Parse(reward.Stdout).RootElement.GetProperty("heldout_pair_accuracy");
        Assert.InRange(accuracy.GetProperty("after").GetDouble(), 0, 1);
        Assert.Contains(File.ReadLines(_dir.File("rm.jsonl")), l => l.Contains("heldout_pair_accuracy"));

        var rl = Run("rl", "--from", _dir.File("sft.ckpt"), "--task", "arithmetic", "--reward-model", _dir.File("rm.ckpt"), "--steps", "1", "--group", "2",
            "--prompts-per-step", "2", "--eval-count", "2", "--max-tokens", "6", "--log", _dir.File("rl-rm.jsonl"), "--json");
        Assert.True(rl.ExitCode == 0, rl.ToString());
        Assert.Contains("rewarded by the reward model", rl.Stderr + rl.Stdout);
        var step = File.ReadLines(_dir.File("rl-rm.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).First(e => e.GetProperty("event").GetString() == "step");
        // A reward model's rewards are real numbers, not the verifier's 0 or 1 (four of them, averaged).
        double mean = step.GetProperty("mean_reward").GetDouble();
        Assert.True(double.IsFinite(mean) && mean != 0 && mean != 1 && mean != 0.5, step.ToString());

        var notReward = Run("rl", "--from", _dir.File("sft.ckpt"), "--task", "arithmetic", "--reward-model", _dir.File("sft.ckpt"), "--steps", "1");
        Assert.Equal(1, notReward.ExitCode);
        Assert.Contains("sft.ckpt", notReward.Stderr);
        Assert.Contains("not a reward model", notReward.Stderr);
        Assert.DoesNotContain("   at ", notReward.Stderr);
    }

    /// <summary>
    /// On-policy pairs: the tiny model's own replies, sorted by the verifier (each rejected reply fails it, each
    /// chosen one passes), seeded (the same pairs twice), and DPO with the RPO term runs on them; dpo's
    /// <c>--data synthetic</c> is these pairs (the first run asks for synthetic, the second for sampled).
    /// </summary>
    [Fact]
    public void Dpo_on_sampled_pairs_rejects_the_policys_own_wrong_replies()
    {
        string[] Sampled(string pairs, string data = "sampled") => ["dpo", "--from", _dir.File("sft.ckpt"), "--data", data, "--tasks", "arithmetic", "--problems", "6", "--heldout-problems", "3",
            "--samples", "2", "--temperature", "1", "--steps", "1", "--batch", "2", "--eval-count", "0", "--rpo-alpha", "1", "--write-pairs", _dir.File(pairs)];
        var run = Run(Sampled("sampled.jsonl", data: "synthetic"));
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("on-policy pairs from arithmetic", run.Stderr + run.Stdout);
        var task = Dataflow.Chat.Tasks.ChatTasks.Create("arithmetic", () => throw new InvalidOperationException("no words needed"));
        var renderer = new Dataflow.Chat.ChatRenderer(new Dataflow.Chat.ChatTokens(Dataflow.Training.LanguageModelCheckpoint.Read(_dir.File("sft.ckpt")).Tokenizer));
        var problems = Dataflow.Chat.Tasks.TaskPrompts.Make(task, renderer, Dataflow.Chat.Tasks.DataSplit.Train, 6, seed: 1).Problems.ToDictionary(p => p.Prompt[^1].Content);
        var pairs = File.ReadLines(_dir.File("sampled.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.NotEmpty(pairs);
        foreach (var pair in pairs)
        {
            var problem = problems[pair.GetProperty("prompt").GetString()!];
            Assert.True(task.IsCorrect(problem, pair.GetProperty("chosen").GetString()!), pair.ToString());
            Assert.False(task.IsCorrect(problem, pair.GetProperty("rejected").GetString()!), pair.ToString());
        }
        var again = Run(Sampled("sampled-again.jsonl"));
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal(File.ReadAllLines(_dir.File("sampled.jsonl")), File.ReadAllLines(_dir.File("sampled-again.jsonl")));
    }

    [Fact]
    public void A_pair_with_a_missing_field_is_exit_1_naming_the_line()
    {
        File.WriteAllLines(_dir.File("bad-pairs.jsonl"),
        [
            """{"prompt": "Hi", "chosen": "Hello!", "rejected": "Go away."}""",
            """{"prompt": "Hi", "chosen": "Hello!"}""",
        ]);
        foreach (var verb in new[] { "dpo", "reward" })
        {
            var run = Run(verb, "--from", _dir.File("sft.ckpt"), "--data", _dir.File("bad-pairs.jsonl"), "--steps", "1");
            Assert.Equal(1, run.ExitCode);
            Assert.Contains("bad-pairs.jsonl:2: missing field \"rejected\"", run.Stderr);
            Assert.DoesNotContain("   at ", run.Stderr);
        }
    }

    [Fact]
    public void An_unknown_task_is_exit_1_listing_the_tasks()
    {
        var run = Run("dpo", "--from", _dir.File("sft.ckpt"), "--data", "synthetic", "--tasks", "poetry", "--steps", "1");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("unknown chat task 'poetry': expected one of arithmetic, arithmetic-hard", run.Stderr);

        var tool = Run("reward", "--from", _dir.File("sft.ckpt"), "--data", "synthetic", "--tasks", "tool-arithmetic", "--steps", "1");
        Assert.Equal(1, tool.ExitCode);
        Assert.Contains("chat task tool-arithmetic", tool.Stderr);
    }
}

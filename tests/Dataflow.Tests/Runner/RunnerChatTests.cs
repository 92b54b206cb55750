using System.Text.Json;
using Dataflow.Tests.Chat;
using Dataflow.Tests.Support;

namespace Dataflow.Tests.Runner;

/// <summary>
/// The post-training path through the runner on a tiny model (a few steps; quality is not the
/// point): train --text synthetic, sft, eval --chat-task, chat --once and piped chat, and the bad
/// inputs that exit 1 or 2. The words come from a generated list ($DATAFLOW_WORD_LIST), not /usr/share/dict.
/// </summary>
public sealed class RunnerChatTests(RunnerChatTests.TinyChatModel model) : IClassFixture<RunnerChatTests.TinyChatModel>
{
    /// <summary>A base and its SFT, trained once for all the tests here (a few steps each).</summary>
    public sealed class TinyChatModel : IDisposable
    {
        private static readonly string[] Tiny = ["--set", "d=16", "--set", "heads=2", "--set", "layers=1"];

        public TinyChatModel()
        {
            Env = new() { ["DATAFLOW_WORD_LIST"] = TestWords.WriteTo(Dir.File("words.txt")) };
            var train = RunnerProcess.RunWith(Env, ["train", RunnerProcess.Model("chat.dfg"), "--text", "synthetic", "--steps", "2", "--eval-iters", "1", .. Tiny, "--checkpoint", Dir.File("base.ckpt")]);
            Assert.True(train.ExitCode == 0, train.ToString());
            Assert.Contains("synthetic corpus:", train.Stdout + train.Stderr);
            var sft = RunnerProcess.RunWith(Env, "sft", "--from", Dir.File("base.ckpt"), "--data", "synthetic", "--steps", "2", "--eval-count", "2", "--checkpoint", Dir.File("sft.ckpt"));
            Assert.True(sft.ExitCode == 0, sft.ToString());
            Assert.Contains("held-out accuracy: arithmetic:", sft.Stdout + sft.Stderr);
        }

        public TempDirectory Dir { get; } = new();
        public Dictionary<string, string> Env { get; }

        public void Dispose() => Dir.Dispose();
    }

    private readonly TempDirectory _dir = model.Dir;
    private readonly Dictionary<string, string> _env = model.Env;

    private RunnerProcess.Result Run(params string[] args) => RunnerProcess.RunWith(_env, args);

    [Fact]
    public void Piped_chat_answers_each_line_and_reset_starts_the_conversation_again()
    {
        var once = Run("chat", "--checkpoint", _dir.File("sft.ckpt"), "--once", "What is 12 + 34?");
        Assert.True(once.ExitCode == 0, once.ToString());
        Assert.EndsWith("\n", once.Stdout);

        string Piped(string input)
        {
            var run = RunnerProcess.RunWithInput(_env, input, "chat", "--checkpoint", _dir.File("sft.ckpt"));
            Assert.True(run.ExitCode == 0, run.ToString());
            return run.Stdout;
        }
        string piped = Piped("What is 12 + 34?\nHi\n/reset\nWhat is 12 + 34?\n/exit\nHi\n");
        // Greedy, so the first reply is --once's, and after /reset the same question gets it again.
        Assert.StartsWith(once.Stdout, piped);
        Assert.EndsWith(once.Stdout, piped);
        Assert.True(piped.Length > 2 * once.Stdout.Length, piped);
        // Nothing after /exit is answered: the same input without the last line prints the same.
        Assert.Equal(piped, Piped("What is 12 + 34?\nHi\n/reset\nWhat is 12 + 34?\n/exit\n"));
    }

    [Fact]
    public void Eval_of_a_chat_task_reports_accuracy_as_json()
    {
        var run = Run("eval", "--checkpoint", _dir.File("sft.ckpt"), "--chat-task", "tool-arithmetic", "--count", "3", "--json");
        Assert.True(run.ExitCode == 0, run.ToString());
        var root = JsonDocument.Parse(run.Stdout).RootElement;
        Assert.Equal("tool-arithmetic", root.GetProperty("task").GetString());
        Assert.Equal(3, root.GetProperty("n").GetInt32());
        Assert.InRange(root.GetProperty("accuracy").GetDouble(), 0, 1);

        var unknown = Run("eval", "--checkpoint", _dir.File("sft.ckpt"), "--chat-task", "poetry");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("unknown chat task 'poetry': expected one of arithmetic, arithmetic-hard", unknown.Stderr);
    }

    [Fact]
    public void Rl_trains_from_the_sft_checkpoint_logs_rollout_metrics_and_writes_a_policy_eval_reads()
    {
        var run = Run("rl", "--from", _dir.File("sft.ckpt"), "--task", "arithmetic", "--steps", "2", "--group", "2", "--prompts-per-step", "2",
            "--eval-count", "2", "--eval-interval", "1", "--max-tokens", "8", "--log", _dir.File("rl.jsonl"), "--checkpoint", _dir.File("rl.ckpt"), "--json");
        Assert.True(run.ExitCode == 0, run.ToString());
        var summary = JsonDocument.Parse(run.Stdout).RootElement;
        Assert.Equal(2, summary.GetProperty("steps").GetInt64());
        Assert.InRange(summary.GetProperty("pass_at_1").GetDouble(), 0, 1);
        var steps = File.ReadLines(_dir.File("rl.jsonl")).Select(l => JsonDocument.Parse(l).RootElement)
            .Where(e => e.GetProperty("event").GetString() == "step").ToList();
        Assert.Equal(2, steps.Count);
        foreach (var key in new[] { "mean_reward", "pass@1", "pass@G", "completion_length", "skipped_groups" })
            Assert.True(steps[0].TryGetProperty(key, out _), $"step metrics lack {key}: {steps[0]}");
        var eval = Run("eval", "--checkpoint", _dir.File("rl.ckpt"), "--chat-task", "arithmetic", "--count", "2", "--json");
        Assert.True(eval.ExitCode == 0, eval.ToString());

        var unknown = Run("rl", "--from", _dir.File("sft.ckpt"), "--task", "poetry");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("--task poetry: expected one of arithmetic, arithmetic-hard", unknown.Stderr);
    }

    [Fact]
    public void Malformed_jsonl_is_exit_1_naming_the_line()
    {
        File.WriteAllLines(_dir.File("bad.jsonl"),
        [
            """{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}""",
            """{"messages": [{"role": "user", "content": "Hi"}""",
        ]);
        var run = Run("sft", "--from", _dir.File("base.ckpt"), "--data", _dir.File("bad.jsonl"), "--steps", "1");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("bad.jsonl:2:", run.Stderr);
        Assert.DoesNotContain("   at ", run.Stderr);
    }

    [Fact]
    public void Sft_trains_on_a_jsonl_file()
    {
        File.WriteAllLines(_dir.File("good.jsonl"), Enumerable.Range(0, 12).Select(i =>
            $$"""{"messages": [{"role": "user", "content": "What is {{i}} + 1?"}, {"role": "tool_call", "content": "{{i}}+1"}, {"role": "tool_output", "content": "{{i + 1}}"}, {"role": "assistant", "content": "{{i + 1}}"}]}"""));
        var run = Run("sft", "--from", _dir.File("base.ckpt"), "--data", _dir.File("good.jsonl"), "--steps", "2", "--checkpoint", _dir.File("file.ckpt"));
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("11 train / 1 held-out conversations", run.Stdout + run.Stderr);
        Assert.True(File.Exists(_dir.File("file.ckpt")));
    }

    [Fact]
    public void Sft_with_lora_adapts_what_chat_dfg_declares_at_its_lora_learning_rate()
    {
        var run = Run("sft", "--from", _dir.File("base.ckpt"), "--data", "synthetic", "--lora", "rank=8,alpha=16", "--steps", "1", "--eval-count", "0",
            "--checkpoint", _dir.File("lora.ckpt"));
        Assert.True(run.ExitCode == 0, run.ToString());
        // chat.dfg: lora(targets = [qkv]) and train(sft_lora_lr = 0.006); rank 8 on the tiny model's one 16 → 48 qkv is 8 · (16 + 48),
        // and SFT trains the 12 chat markers' embedding rows (12 · 16) unless told tokens=none.
        Assert.Contains("LoRA 1 adapters and 12 token rows: 704 trainable parameters", run.Stdout + run.Stderr);
        Assert.Contains("lr 0.006 → 0.0006", run.Stdout + run.Stderr);
        Assert.Contains("LoRA mixture: arithmetic 4, spelling 2.5, tool-arithmetic 1, lists 1.75", run.Stdout + run.Stderr);
    }

    [Fact]
    public void A_missing_word_list_is_exit_2_saying_to_run_setup()
    {
        var run = RunnerProcess.RunWith(new Dictionary<string, string> { ["DATAFLOW_WORD_LIST"] = _dir.File("none.txt") },
            "eval", "--checkpoint", _dir.File("sft.ckpt"), "--chat-task", "spelling", "--count", "1");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("run tools/setup", run.Stderr);
    }
}

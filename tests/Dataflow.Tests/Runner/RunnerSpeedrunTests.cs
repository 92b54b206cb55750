using System.Text.Json;
using Dataflow.Tests.Chat;
using Dataflow.Tests.Support;

namespace Dataflow.Tests.Runner;

/// <summary>
/// <c>dataflow speedrun</c> end to end on a tiny model and a budget of seconds (every stage runs at
/// least a step; quality is not the point): every stage's numbers in the JSON, the checkpoints, the
/// metrics logs and report.md with a table per stage; and the bad inputs that exit 1 naming the flag.
/// </summary>
public sealed class RunnerSpeedrunTests : IDisposable
{
    private static readonly string[] Tiny = ["--set", "d=16", "--set", "heads=2", "--set", "layers=1", "--eval-count", "2"];
    private static readonly string[] Tasks = ["arithmetic", "arithmetic-hard", "subtraction-hard", "tool-arithmetic", "spelling", "lists", "greetings"];

    private readonly TempDirectory _dir = new();
    private readonly Dictionary<string, string> _env;

    public RunnerSpeedrunTests() => _env = new() { ["DATAFLOW_WORD_LIST"] = TestWords.WriteTo(_dir.File("words.txt")) };

    public void Dispose() => _dir.Dispose();

    private RunnerProcess.Result Run(params string[] args) => RunnerProcess.RunWith(_env, ["speedrun", "--model", RunnerProcess.Model("chat.dfg"), .. args]);

    [Fact]
    public void A_tiny_speedrun_reports_every_stage_in_json_and_writes_the_report_card()
    {
        string output = _dir.File("run");
        var run = Run([.. Tiny, "--minutes", "0.2", "--out", output, "--json"]);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("== speedrun stage 4: rl", run.Stderr);    // progress on stderr, stage by stage

        var root = JsonDocument.Parse(run.Stdout).RootElement;
        Assert.Equal(12, root.GetProperty("budget_seconds").GetDouble(), 6);
        Assert.True(root.GetProperty("total_seconds").GetDouble() > 0);
        Assert.InRange(root.GetProperty("scale").GetDouble(), 0, 1);
        var stages = root.GetProperty("stages");
        Assert.Equal(["tokenizer", "pretrain", "sft", "rl"], stages.EnumerateObject().Select(p => p.Name));
        foreach (var stage in stages.EnumerateObject())
        {
            Assert.True(stage.Value.GetProperty("seconds").GetDouble() > 0, stage.Name);
            Assert.True(File.Exists(stage.Value.GetProperty("checkpoint").GetString()), stage.Name);
        }
        Assert.True(stages.GetProperty("tokenizer").GetProperty("vocab").GetInt32() > 100);
        foreach (var name in new[] { "pretrain", "sft", "rl" })
        {
            var stage = stages.GetProperty(name);
            Assert.InRange(stage.GetProperty("steps").GetInt64(), 1, stage.GetProperty("recipe_steps").GetInt64());
            Assert.InRange(stage.GetProperty("steps").GetInt64(), 1, stage.GetProperty("planned_steps").GetInt64());
            // A loop the budget stopped says so in the card, with its steps.
            bool stopped = stage.GetProperty("stopped_at_budget").GetBoolean();
            Assert.Equal(stopped, stage.GetProperty("notes").EnumerateArray().Any(n => n.GetString()!.StartsWith("stopped at budget after ", StringComparison.Ordinal)));
            Assert.True(File.Exists(Path.Combine(output, name + ".jsonl")), name);
        }
        foreach (var name in new[] { "pretrain", "sft" })
        {
            var stage = stages.GetProperty(name);
            foreach (var key in new[] { "val_loss_before", "train_loss", "val_loss", "ms_per_step" })
                Assert.True(stage.GetProperty(key).GetDouble() > 0, $"{name}.{key}");
        }
        foreach (var name in new[] { "sft", "rl" })
        {
            var accuracy = stages.GetProperty(name).GetProperty("accuracy");
            Assert.Equal(Tasks, accuracy.EnumerateObject().Select(p => p.Name));
            foreach (var task in accuracy.EnumerateObject())
            {
                Assert.InRange(task.Value.GetProperty("before").GetDouble(), 0, 1);
                Assert.InRange(task.Value.GetProperty("after").GetDouble(), 0, 1);
            }
        }
        // RL's "before" is SFT's "after": the same questions asked of the same model.
        Assert.Equal(stages.GetProperty("sft").GetProperty("accuracy").GetProperty("arithmetic").GetProperty("after").GetDouble(),
            stages.GetProperty("rl").GetProperty("accuracy").GetProperty("arithmetic").GetProperty("before").GetDouble());
        var rl = stages.GetProperty("rl");
        Assert.InRange(rl.GetProperty("mean_reward_first").GetDouble(), 0, 1);
        var curve = rl.GetProperty("reward_curve");
        Assert.InRange(curve.GetProperty("last").GetDouble(), 0, 1);
        var heldOut = curve.GetProperty("heldout_pass@1").EnumerateArray().ToList();
        Assert.True(heldOut.Count >= 2, curve.ToString());    // before the first step and after the last
        Assert.Equal(0, heldOut[0].GetProperty("step").GetInt64());
        var samples = root.GetProperty("samples").EnumerateArray().ToList();
        Assert.Equal(Tasks, samples.Select(s => s.GetProperty("task").GetString()));
        Assert.All(samples, s => Assert.False(string.IsNullOrEmpty(s.GetProperty("question").GetString())));

        string markdown = File.ReadAllText(Path.Combine(output, "report.md"));
        foreach (var name in new[] { "tokenizer", "pretrain", "sft", "rl" }) Assert.Contains($"\n## {name}\n", markdown);
        Assert.Equal(4, markdown.Split("| metric | value |").Length - 1);
        Assert.Equal(2, markdown.Split("| held-out accuracy | before | after |").Length - 1);
        Assert.Contains("## Sample conversations", markdown);
        Assert.Contains("Reward curve", markdown);
        Assert.Contains("wall time", markdown);
        Assert.Contains("speedrun wall time ", run.Stderr);
        Assert.InRange(rl.GetProperty("final_eval_problems").GetDouble(), 1, 2);
        var saved = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "report.json"))).RootElement;
        Assert.Equal(root.GetProperty("total_seconds").GetDouble(), saved.GetProperty("total_seconds").GetDouble());
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-2")]
    public void A_budget_that_is_not_positive_is_exit_1_naming_the_flag(string minutes)
    {
        var run = Run("--minutes", minutes, "--out", _dir.File("never"));
        Assert.Equal(1, run.ExitCode);
        Assert.Contains($"--minutes {minutes}", run.Stderr);
        Assert.DoesNotContain("   at ", run.Stderr);
        Assert.False(Directory.Exists(_dir.File("never")));
    }

    [Fact]
    public void An_output_folder_that_cannot_be_written_is_exit_1_naming_it()
    {
        File.WriteAllText(_dir.File("a-file"), "not a folder");
        string output = Path.Combine(_dir.File("a-file"), "run");
        var run = Run([.. Tiny, "--minutes", "1", "--out", output]);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains($"--out {output}", run.Stderr);
        Assert.DoesNotContain("   at ", run.Stderr);
    }

    [Fact]
    public void An_unknown_rl_task_is_exit_1_listing_the_tasks()
    {
        var run = Run("--rl-task", "poetry", "--out", _dir.File("never"));
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("--rl-task poetry: expected one of arithmetic, arithmetic-hard", run.Stderr);
    }
}

using System.Text.Json;
using Dataflow.Tests.LanguageModels;
using Dataflow.Tests.Support;

namespace Dataflow.Tests.Runner;

/// <summary>`generate` with many sequences: samples, prompt files, stops, --json, and the bad inputs that exit 1 with a message.</summary>
public sealed class RunnerGenerateTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    /// <summary>A character model of context 8 trained for a few steps (enough for text; quality is not the point).</summary>
    public RunnerGenerateTests()
    {
        File.WriteAllText(_dir.File("text.txt"), TinyGpt.RepetitiveText(2000));
        var train = RunnerProcess.Run(
            "train", TinyGpt.ModelPath, "--text", _dir.File("text.txt"), "--steps", "3", "--batch", "4", "--eval-interval", "3", "--eval-iters", "1",
            "--set", "layers=1", "--set", "heads=2", "--set", "d=16", "--set", "ctx=8", "--set", "dropout=0", "--checkpoint", _dir.File("lm.ckpt"));
        Assert.True(train.ExitCode == 0, train.ToString());
    }

    public void Dispose() => _dir.Dispose();

    private RunnerProcess.Result Generate(params string[] args) => RunnerProcess.Run(["generate", "--checkpoint", _dir.File("lm.ckpt"), .. args]);

    [Fact]
    public void Json_gives_each_sample_its_text_token_counts_and_timings()
    {
        var run = Generate("--prompt", "the", "--num-samples", "3", "--max-tokens", "20", "--json");
        Assert.True(run.ExitCode == 0, run.ToString());
        var root = JsonDocument.Parse(run.Stdout).RootElement;
        var sequences = root.GetProperty("sequences").EnumerateArray().ToList();
        Assert.Equal(3, sequences.Count);
        Assert.Equal(3, root.GetProperty("batch").GetInt32());
        foreach (var s in sequences)
        {
            Assert.Equal("the", s.GetProperty("prompt").GetString());
            Assert.Equal(20, s.GetProperty("generated_tokens").GetInt32());
            Assert.Equal(20, s.GetProperty("text").GetString()!.Length);     // a character model: a token is a character
            Assert.Equal(3, s.GetProperty("prompt_tokens").GetInt32());
            Assert.True(s.GetProperty("total_ms").GetDouble() >= s.GetProperty("time_to_first_token_ms").GetDouble());
        }
        Assert.Equal(60, root.GetProperty("generated_tokens").GetInt32());
    }

    [Fact]
    public void Prompts_from_a_file_stream_in_order_and_agree_with_the_json()
    {
        File.WriteAllLines(_dir.File("prompts.txt"), ["the cat", "", "the dog", "a"]);
        string[] common = ["--prompts", _dir.File("prompts.txt"), "--max-tokens", "12", "--temperature", "0", "--batch", "2"];
        var streamed = Generate(common);
        var json = Generate([.. common, "--json"]);
        Assert.True(streamed.ExitCode == 0, streamed.ToString());
        Assert.True(json.ExitCode == 0, json.ToString());
        var texts = JsonDocument.Parse(json.Stdout).RootElement.GetProperty("sequences").EnumerateArray()
            .Select(s => s.GetProperty("prompt").GetString() + s.GetProperty("text").GetString()).ToList();
        Assert.Equal(3, texts.Count);
        Assert.Equal(string.Join("\n\n", texts) + "\n", streamed.Stdout.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void A_stop_string_ends_each_sequence_after_it()
    {
        var run = Generate("--prompt", "the", "--num-samples", "2", "--max-tokens", "100", "--stop", "t", "--json");
        Assert.True(run.ExitCode == 0, run.ToString());
        foreach (var s in JsonDocument.Parse(run.Stdout).RootElement.GetProperty("sequences").EnumerateArray())
        {
            var text = s.GetProperty("text").GetString()!;
            if (s.GetProperty("finish_reason").GetString() == "stop") Assert.Equal(text.Length - 1, text.IndexOf('t'));
            else Assert.DoesNotContain('t', text);
        }
    }

    [Fact]
    public void A_prompt_longer_than_the_context_exits_1_with_both_lengths()
    {
        var run = Generate("--prompt", "the cat sat", "--max-tokens", "5");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("--prompt is 11 tokens but the model's context is 8 tokens", run.Stderr);
        File.WriteAllLines(_dir.File("long.txt"), ["the", "the cat sat"]);
        var fromFile = Generate("--prompts", _dir.File("long.txt"), "--max-tokens", "5");
        Assert.Equal(1, fromFile.ExitCode);
        Assert.Contains("line 2 is 11 tokens but the model's context is 8 tokens", fromFile.Stderr);
    }

    [Fact]
    public void An_empty_prompts_file_and_zero_samples_exit_1()
    {
        File.WriteAllText(_dir.File("empty.txt"), "\n  \n");
        var empty = Generate("--prompts", _dir.File("empty.txt"));
        Assert.Equal(1, empty.ExitCode);
        Assert.Contains("has no prompts", empty.Stderr);
        var zero = Generate("--prompt", "the", "--num-samples", "0");
        Assert.Equal(1, zero.ExitCode);
        Assert.Contains("--num-samples 0", zero.Stderr);
        Assert.DoesNotContain("   at ", zero.Stderr);
    }

    [Fact]
    public void Weights_bf16_generates_and_a_bad_weights_value_exits_1_naming_it()
    {
        var bf16 = Generate("--prompt", "the", "--max-tokens", "10", "--temperature", "0", "--weights", "bf16", "--json");
        Assert.True(bf16.ExitCode == 0, bf16.ToString());
        Assert.Equal(10, JsonDocument.Parse(bf16.Stdout).RootElement.GetProperty("sequences")[0].GetProperty("generated_tokens").GetInt32());
        var bad = Generate("--prompt", "the", "--weights", "fp8");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("--weights fp8: expected f32 | bf16", bad.Stderr);
        Assert.DoesNotContain("   at ", bad.Stderr);
    }
}

namespace Dataflow.Tests.Runner;

/// <summary>
/// Every numeric flag is checked before any work starts, and the message names the flag the user
/// typed with the value given, not a flag derived from it.
/// </summary>
public sealed class FlagRangeTests
{
    private static void AssertRefused(string[] args, string expected)
    {
        var result = RunnerProcess.Run(args);
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains(expected, result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
    }

    private static readonly string[] TrainText = ["train", RunnerProcess.Model("gpt.dfg"), "--text", "no-such-text-is-read.txt"];

    [Theory]
    [InlineData("--lr", "-1", "--lr -1: must be a finite number greater than 0")]
    [InlineData("--lr", "nan", "--lr nan: must be")]
    [InlineData("--lr", "1e400", "--lr 1e400: must be")]
    [InlineData("--min-lr", "NaN", "--min-lr NaN: must be")]
    [InlineData("--steps", "0", "--steps 0: must be a whole number, 1 or more")]
    [InlineData("--batch", "-3", "--batch -3: must be")]
    [InlineData("--warmup", "-1", "--warmup -1: must be a whole number, 0 or more")]
    public void TrainingFlagsOutOfRangeAreRefusedBeforeTheTextIsRead(string flag, string value, string expected) =>
        AssertRefused([.. TrainText, flag, value], expected);

    [Theory]
    [InlineData("matmul", "--seconds", "0")]
    [InlineData("matmul", "--seconds", "-1")]
    [InlineData("matmul", "--seconds", "nan")]
    [InlineData("matmul", "--seconds", "1e30")]
    [InlineData("gpt-train", "--steps", "0")]
    [InlineData("gpt-train", "--rounds", "0")]
    [InlineData("gpt-train", "--top", "-1")]
    public void BenchFlagsOutOfRangeAreRefused(string bench, string flag, string value) =>
        AssertRefused(["bench", bench, flag, value], $"{flag} {value}: must be");

    [Theory]
    [InlineData("--temperature", "-0.5")]
    [InlineData("--top-p", "0")]
    [InlineData("--top-p", "1.5")]
    [InlineData("--top-k", "-1")]
    [InlineData("--max-tokens", "0")]
    public void SamplingFlagsOutOfRangeAreRefused(string flag, string value) =>
        AssertRefused(["generate", "--checkpoint", "no-such.ckpt", flag, value], $"{flag} {value}: must be");

    [Fact]
    public void AValueInRangeIsNotRefused()
    {
        // The flags pass, so the error is the next one in line: the missing text file.
        var result = RunnerProcess.Run([.. TrainText, "--lr", "0.001", "--steps", "3"]);
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("no-such-text-is-read.txt", result.Stderr);
        Assert.DoesNotContain("must be", result.Stderr);
    }

    [Fact]
    public void ABatchTooLargeForTheMachineIsRefusedWithTheBytesItNeeds()
    {
        using var dir = new Support.TempDirectory();
        var text = dir.File("tiny.txt");
        File.WriteAllText(text, string.Concat(Enumerable.Repeat("Before we proceed any further, hear me speak.\n", 20)));
        AssertRefused(["train", RunnerProcess.Model("gpt.dfg"), "--text", text, "--set", "ctx=8", "--batch", "2147483647"], "GiB needed, but");
        AssertRefused(["train", RunnerProcess.Model("transformer.dfg"), "--task", "reverse", "--preset", "tiny", "--batch", "2147483647"], "GiB needed, but");
    }
}

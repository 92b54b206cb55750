using System.CommandLine;
using Dataflow.Engine.Tokenizers;
using Dataflow.Runner.Commands;

namespace Dataflow.Tests.Tokenizers;

public class TokenizerCommandTests
{
    private static (int Exit, string Output) Run(params string[] args)
    {
        var root = new RootCommand("test") { TokenizerCommand.Create() };
        var output = new StringWriter();
        var config = new InvocationConfiguration { Output = output, Error = new StringWriter(), EnableDefaultExceptionHandler = false };
        int exit = root.Parse(args).Invoke(config);
        return (exit, output.ToString());
    }

    [Fact]
    public void TrainEncodeDecodeRoundTrip()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("train.txt"), TokenizerTestText.Corpus(5_000));
        string outDir = dir.File("tok");

        var (exit, output) = Run("tokenizer", "train", "--text", dir.File("train.txt"), "--vocab", "320", "--out", outDir);
        Assert.Equal(0, exit);
        Assert.Contains("trained vocab 320", output);
        Assert.True(File.Exists(Path.Combine(outDir, "merges.txt")));

        string text = "héllo wörld — 你好 👋";
        var encode = Run("tokenizer", "encode", "--tokenizer", outDir, "--text", text);
        Assert.Equal(0, encode.Exit);
        int[] expected = TokenizerFactory.Create(outDir, null).Encode(text);
        Assert.Equal(string.Join(' ', expected), encode.Output.Trim());

        var decode = Run("tokenizer", "decode", "--tokenizer", outDir, "--ids", encode.Output.Trim());
        Assert.Equal(0, decode.Exit);
        Assert.Equal(text + Environment.NewLine, decode.Output);
    }

    [Fact]
    public void EncodeReadsAFile()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("in.txt"), "hello world");
        var (exit, output) = Run("tokenizer", "encode", "--tokenizer", "gpt2", "--file", dir.File("in.txt"));
        Assert.Equal(0, exit);
        Assert.Equal("31373 995", output.Trim());
    }

    [Fact]
    public void UserErrorsAreTokenizerExceptions()
    {
        Assert.Throws<TokenizerException>(() => Run("tokenizer", "encode", "--tokenizer", "gpt2"));
        Assert.Throws<TokenizerException>(() => Run("tokenizer", "decode", "--tokenizer", "gpt2", "--ids", "1 x 3"));
        Assert.Throws<TokenizerException>(() => Run("tokenizer", "encode", "--tokenizer", "nonsense", "--text", "a"));
        // What cannot be read as text is a data error, the same as for training.
        Assert.Throws<Dataflow.Engine.Data.DataException>(() => Run("tokenizer", "train", "--text", "/no/such/file", "--vocab", "300", "--out", "/tmp/x"));
        var binary = Path.Combine(Path.GetTempPath(), $"dataflow-binary-{Guid.NewGuid():N}.bin");
        File.WriteAllBytes(binary, [0x41, 0x42, 0xC3, 0x28]);
        try
        {
            var error = Assert.Throws<Dataflow.Engine.Data.DataException>(() => Run("tokenizer", "train", "--text", binary, "--vocab", "300", "--out", "/tmp/x"));
            Assert.Contains("byte offset 2 (0xC3) is not valid UTF-8", error.Message);
        }
        finally { File.Delete(binary); }
    }
}

using System.Text;
using Dataflow.Engine.Tokenizers;

namespace Dataflow.Tests.Tokenizers;

public class BpeFilesTests
{
    private static readonly Lazy<BytePairTokenizer> Trained = new(() => BpeTrainer.Train(TokenizerTestText.Corpus(10_000), 400));

    [Fact]
    public void SaveWritesGpt2Format()
    {
        using var dir = new TempDirectory();
        Trained.Value.Save(dir.Path);
        string[] merges = File.ReadAllLines(dir.File("merges.txt"));
        Assert.Equal("#version: 0.2", merges[0]);
        Assert.Equal(400 - 256 - 3, merges.Length - 1);
        Assert.All(merges.Skip(1), line => Assert.Single(line, ' '));
        string vocab = File.ReadAllText(dir.File("vocab.json"));
        Assert.Contains("\"<|endoftext|>\": 397", vocab);
        Assert.Contains("\"Ġ\": 32", vocab);
    }

    [Fact]
    public void SaveThenLoadGivesTheSameEncodings()
    {
        using var dir = new TempDirectory();
        var original = Trained.Value;
        original.Save(dir.Path);
        var loaded = BytePairTokenizer.Load(dir.File("vocab.json"), dir.File("merges.txt"));
        Assert.Equal(original.VocabSize, loaded.VocabSize);
        Assert.Equal(original.SpecialTokens.OrderBy(kv => kv.Value), loaded.SpecialTokens.OrderBy(kv => kv.Value));
        foreach (string text in TokenizerTestText.Awkward.Append(TokenizerTestText.Corpus(1000, seed: 3)).Append("a<|im_end|>b"))
            Assert.Equal(original.Encode(text), loaded.Encode(text));
    }

    [Fact]
    public void FactoryLoadsFromDirectoryOrEitherFile()
    {
        using var dir = new TempDirectory();
        Trained.Value.Save(dir.Path);
        string text = "héllo wörld — 你好 👋";
        int[] expected = Trained.Value.Encode(text);
        Assert.Equal(expected, TokenizerFactory.Create(dir.Path, null).Encode(text));
        Assert.Equal(expected, TokenizerFactory.Create(dir.File("vocab.json"), null).Encode(text));
        Assert.Equal(expected, TokenizerFactory.Create(dir.File("merges.txt"), null).Encode(text));
    }

    [Fact]
    public void LoadedVocabularyWithoutChatTokensGetsThemAppended()
    {
        // GPT-2's own files carry only <|endoftext|>, stored in vocab.json as a token no merge makes.
        using var dir = new TempDirectory();
        WriteByteVocab(dir, extra: "\"ab\": 256, \"<|endoftext|>\": 257", merges: "#version: 0.2\na b\n");
        var tokenizer = BytePairTokenizer.Load(dir.File("vocab.json"), dir.File("merges.txt"));
        Assert.Equal(257, tokenizer.SpecialTokens[SpecialTokenNames.EndOfText]);
        Assert.Equal(258, tokenizer.SpecialTokens[SpecialTokenNames.ImStart]);
        Assert.Equal(259, tokenizer.SpecialTokens[SpecialTokenNames.ImEnd]);
        Assert.Equal(260, tokenizer.VocabSize);
        Assert.Equal([256, 257], tokenizer.Encode("ab<|endoftext|>"));
    }

    [Fact]
    public void InvalidJsonNamesFileAndLine()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("vocab.json"), "{\n\"a\": 1,\n\"b\": }\n");
        File.WriteAllText(dir.File("merges.txt"), "#version: 0.2\n");
        var error = Assert.Throws<TokenizerException>(() => BytePairTokenizer.Load(dir.File("vocab.json"), dir.File("merges.txt")));
        Assert.Contains(dir.File("vocab.json") + ":3:", error.Message);
    }

    [Fact]
    public void NonIntegerIdNamesFileLineAndToken()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("vocab.json"), "{\n\"a\": 1,\n\"b\": \"two\"\n}");
        File.WriteAllText(dir.File("merges.txt"), "");
        var error = Assert.Throws<TokenizerException>(() => TokenizerFactory.Create(dir.Path, null));
        Assert.Contains(dir.File("vocab.json") + ":3:", error.Message);
        Assert.Contains("\"b\"", error.Message);
    }

    [Fact]
    public void VocabularyMissingByteTokensNamesFile()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("vocab.json"), "{\"a\": 0}");
        File.WriteAllText(dir.File("merges.txt"), "");
        var error = Assert.Throws<TokenizerException>(() => TokenizerFactory.Create(dir.Path, null));
        Assert.Contains(dir.File("vocab.json"), error.Message);
        Assert.Contains("byte 0x00", error.Message);
    }

    [Theory]
    [InlineData("#version: 0.2\na b c\n", 2, "two tokens")]
    [InlineData("#version: 0.2\na b\nab\n", 3, "two tokens")]
    [InlineData("#version: 0.2\na b\nab z9\n", 3, "\"z9\" is not in the vocabulary")]
    [InlineData("#version: 0.2\nb a\n", 2, "\"ba\" is not in the vocabulary")]
    [InlineData("a b\na b\n", 2, "listed twice")]
    public void MalformedMergesNameFileAndLine(string merges, int line, string problem)
    {
        using var dir = new TempDirectory();
        WriteByteVocab(dir, extra: "\"ab\": 256", merges: merges);
        var error = Assert.Throws<TokenizerException>(() => BytePairTokenizer.Load(dir.File("vocab.json"), dir.File("merges.txt")));
        Assert.Contains($"{dir.File("merges.txt")}:{line}:", error.Message);
        Assert.Contains(problem, error.Message);
    }

    [Fact]
    public void MissingFileIsATokenizerError()
    {
        using var dir = new TempDirectory();
        var error = Assert.Throws<TokenizerException>(() => BytePairTokenizer.Load(dir.File("vocab.json"), dir.File("merges.txt")));
        Assert.Contains(dir.File("vocab.json"), error.Message);
    }

    /// <summary>A vocab.json with the 256 byte tokens at ids 0..255 plus <paramref name="extra"/> entries.</summary>
    private static void WriteByteVocab(TempDirectory dir, string extra, string merges)
    {
        var json = new StringBuilder("{");
        for (int b = 0; b < 256; b++)
            json.Append(System.Text.Json.JsonSerializer.Serialize(ByteLevelAlphabet.ByteToChar((byte)b).ToString())).Append(": ").Append(b).Append(",\n");
        json.Append(extra).Append('}');
        File.WriteAllText(dir.File("vocab.json"), json.ToString());
        File.WriteAllText(dir.File("merges.txt"), merges);
    }
}

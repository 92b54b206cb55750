using Dataflow.Engine.Tokenizers;

namespace Dataflow.Tests.Tokenizers;

public class TokenizerFactoryTests
{
    private const string Probe = "héllo wörld — 你好 👋\n<|endoftext|> it's";

    public static TheoryData<string> Specs() => new("char", "bpe:300", "cl100k_base", "o200k_base", "gpt2");

    [Theory]
    [MemberData(nameof(Specs))]
    public void JsonRoundTripKeepsBehaviour(string spec)
    {
        string training = TokenizerTestText.Corpus(3_000) + Probe;
        var original = TokenizerFactory.Create(spec, training);
        string json = original.ToJson();
        var restored = TokenizerFactory.FromJson(json);
        Assert.Equal(original.GetType(), restored.GetType());
        Assert.Equal(original.Kind, restored.Kind);
        Assert.Equal(original.VocabSize, restored.VocabSize);
        Assert.Equal(original.SpecialTokens.OrderBy(kv => kv.Value), restored.SpecialTokens.OrderBy(kv => kv.Value));
        Assert.Equal(json, restored.ToJson());
        int[] ids = original.Encode(Probe);
        Assert.Equal(ids, restored.Encode(Probe));
        Assert.Equal(Probe, restored.Decode(ids));
    }

    [Fact]
    public void CharJsonKeepsSpecialTokens()
    {
        var original = CharTokenizer.FromText("abc", [SpecialTokenNames.ImEnd]);
        var restored = TokenizerFactory.FromJson(original.ToJson());
        Assert.Equal(3, restored.SpecialTokens[SpecialTokenNames.ImEnd]);
        Assert.Equal([0, 3], restored.Encode("a<|im_end|>"));
    }

    [Fact]
    public void CharSpecIsTheSortedDistinctCharacters()
    {
        var tokenizer = TokenizerFactory.Create("char", "banana");
        Assert.Equal("char", tokenizer.Kind);
        Assert.Equal(3, tokenizer.VocabSize);
        Assert.Equal([1, 0, 2], tokenizer.Encode("ban"));
    }

    [Theory]
    [InlineData("bpe:lots", "bpe:N")]
    [InlineData("bpe:", "bpe:N")]
    [InlineData("sentencepiece", "unknown tokenizer spec 'sentencepiece'")]
    [InlineData("/no/such/dir", "unknown tokenizer spec '/no/such/dir'")]
    public void BadSpecsAreTokenizerErrors(string spec, string fragment)
    {
        var error = Assert.Throws<TokenizerException>(() => TokenizerFactory.Create(spec, "some text"));
        Assert.Contains(fragment, error.Message);
    }

    [Theory]
    [InlineData("char")]
    [InlineData("bpe:300")]
    public void LearnedSpecsNeedTrainingText(string spec)
    {
        var error = Assert.Throws<TokenizerException>(() => TokenizerFactory.Create(spec, null));
        Assert.Contains("training text", error.Message);
    }

    [Fact]
    public void FileThatIsNotVocabOrMergesIsAnError()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("tokens.txt"), "x");
        var error = Assert.Throws<TokenizerException>(() => TokenizerFactory.Create(dir.File("tokens.txt"), null));
        Assert.Contains(dir.File("tokens.txt"), error.Message);
    }

    [Theory]
    [InlineData("not json", "not valid JSON")]
    [InlineData("[1]", "\"kind\"")]
    [InlineData("{\"kind\":\"wordpiece\"}", "unknown kind 'wordpiece'")]
    [InlineData("{\"kind\":\"bpe\",\"vocab\":{}}", "\"merges\"")]
    [InlineData("{\"kind\":\"char\",\"chars\":[55296]}", "chars[0]")]
    [InlineData("{\"kind\":\"tiktoken:p99k\"}", "p99k")]
    public void MalformedJsonIsATokenizerError(string json, string fragment)
    {
        var error = Assert.Throws<TokenizerException>(() => TokenizerFactory.FromJson(json));
        Assert.Contains(fragment, error.Message);
    }
}

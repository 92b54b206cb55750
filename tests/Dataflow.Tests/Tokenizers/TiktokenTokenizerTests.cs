using Dataflow.Engine.Tokenizers;
using MlTiktoken = Microsoft.ML.Tokenizers.TiktokenTokenizer;

namespace Dataflow.Tests.Tokenizers;

public class TiktokenTokenizerTests
{
    private const string Sample = "héllo wörld — 你好 👋";

    [Fact]
    public void Cl100kMatchesTheLibraryAndRoundTrips()
    {
        var ours = (TiktokenTokenizer)TokenizerFactory.Create("cl100k_base", null);
        int[] expected = MlTiktoken.CreateForEncoding("cl100k_base").EncodeToIds(Sample).ToArray();
        int[] ids = ours.Encode(Sample);
        Assert.Equal(expected, ids);
        Assert.True(ids.Length > 5);
        Assert.Equal(Sample, ours.Decode(ids));
        Assert.Equal("tiktoken:cl100k_base", ours.Kind);
        Assert.Equal(100277, ours.VocabSize);
    }

    [Theory]
    [InlineData("o200k_base", 200019)]
    [InlineData("gpt2", 50257)]
    public void OtherEncodingsLoadAndRoundTrip(string encoding, int vocabSize)
    {
        var tokenizer = TokenizerFactory.Create(encoding, null);
        Assert.Equal(vocabSize, tokenizer.VocabSize);
        foreach (string text in TokenizerTestText.Awkward)
            Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text)));
    }

    [Fact]
    public void Gpt2EncodesKnownIds()
    {
        // "hello world" is 31373, 995 in GPT-2's published vocabulary.
        Assert.Equal([31373, 995, 50256], TokenizerFactory.Create("gpt2", null).Encode("hello world<|endoftext|>"));
    }

    [Fact]
    public void SpecialTokensAreSingleIds()
    {
        var tokenizer = TokenizerFactory.Create("cl100k_base", null);
        int eot = tokenizer.SpecialTokens[SpecialTokenNames.EndOfText];
        Assert.Equal(100257, eot);
        int[] ids = tokenizer.Encode("a<|endoftext|>b");
        Assert.Single(ids, eot);
        Assert.Equal("a<|endoftext|>b", tokenizer.Decode(ids));
    }

    [Fact]
    public void DecodeRejectsOutOfRangeIds()
    {
        var tokenizer = TokenizerFactory.Create("cl100k_base", null);
        Assert.Throws<TokenizerException>(() => tokenizer.Decode([1, 100277]));
        Assert.Throws<TokenizerException>(() => tokenizer.Decode([-1]));
    }
}

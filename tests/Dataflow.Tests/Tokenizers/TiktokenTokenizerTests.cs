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

    /// <summary>
    /// tiktoken matches its pattern on code points: 𝟘 (U+1D7D8) is a digit, so `a 𝟘` splits into
    /// `a`, ` `, `𝟘`. On UTF-16 units the surrogates read as punctuation and ` 𝟘` became one piece
    /// (64 82350 253 246). The ids are js-tiktoken's, which matches OpenAI's tiktoken.
    /// </summary>
    [Fact]
    public void Cl100kPreTokenizesOnCodePointsAsTiktokenDoes() =>
        Assert.Equal([64, 220, 57352, 253, 246], TokenizerFactory.Create("cl100k_base", null).Encode("a 𝟘"));

    [Theory]
    [InlineData("cl100k_base")]
    [InlineData("o200k_base")]
    [InlineData("gpt2")]
    public void LettersAndDigitsOutsideTheBmpSplitLikeTheirBmpCounterparts(string encoding)
    {
        var tokenizer = TokenizerFactory.Create(encoding, null);
        // A digit after a space stands alone (cl100k, o200k) or takes the space (gpt2: ' ?\p{N}+'), as '0' does.
        int[] separate = [.. tokenizer.Encode("a"), .. tokenizer.Encode(" "), .. tokenizer.Encode("𝟘")];
        int[] joined = [.. tokenizer.Encode("a"), .. tokenizer.Encode(" 𝟘")];
        Assert.Equal(encoding == "gpt2" ? joined : separate, tokenizer.Encode("a 𝟘"));
        Assert.Equal("x 𝐀𝐁c 𝟘𝟙", tokenizer.Decode(tokenizer.Encode("x 𝐀𝐁c 𝟘𝟙")));
    }

    [Theory]
    [InlineData("cl100k_base")]
    [InlineData("o200k_base")]
    [InlineData("gpt2")]
    public void TextWithinTheBmpEncodesExactlyAsTheLibraryDoes(string encoding)
    {
        var library = encoding == "gpt2" ? MlTiktoken.CreateForModel("gpt2") : MlTiktoken.CreateForEncoding(encoding);
        var ours = TokenizerFactory.Create(encoding, null);
        foreach (string text in TokenizerTestText.Awkward.Append(TokenizerTestText.Corpus(3_000)).Append(Sample))
            Assert.Equal(library.EncodeToIds(text).ToArray(), ours.Encode(text));
    }
}

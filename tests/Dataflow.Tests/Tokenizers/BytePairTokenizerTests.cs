using Dataflow.Engine.Tokenizers;

namespace Dataflow.Tests.Tokenizers;

public class BytePairTokenizerTests
{
    private static readonly Lazy<BytePairTokenizer> Trained = new(() => BpeTrainer.Train(TokenizerTestText.Corpus(20_000), 500));

    public static TheoryData<string> AwkwardTexts() => new(TokenizerTestText.Awkward);

    [Theory]
    [MemberData(nameof(AwkwardTexts))]
    public void RoundTripsArbitraryUtf8(string text)
    {
        var tokenizer = Trained.Value;
        int[] ids = tokenizer.Encode(text);
        Assert.Equal(text, tokenizer.Decode(ids));
        Assert.All(ids, id => Assert.InRange(id, 0, tokenizer.VocabSize - 1));
    }

    [Fact]
    public void RoundTripsTheTrainingTextInFewerTokensThanBytes()
    {
        string text = TokenizerTestText.Corpus(2_000, seed: 99);
        int[] ids = Trained.Value.Encode(text);
        Assert.Equal(text, Trained.Value.Decode(ids));
        Assert.True(ids.Length < System.Text.Encoding.UTF8.GetByteCount(text) / 2, $"{ids.Length} tokens for {text.Length} chars");
    }

    [Fact]
    public void PreTokenizerFollowsGpt2()
    {
        Assert.Equal(["Hello", ",", " world", "'s", " 123", "  ", " ok", "\n"], Gpt2PreTokenizer.Split("Hello, world's 123   ok\n"));
    }

    [Fact]
    public void SpecialTokensAreSingleIdsAndNeverSplit()
    {
        var tokenizer = Trained.Value;
        int eot = tokenizer.SpecialTokens[SpecialTokenNames.EndOfText];
        int start = tokenizer.SpecialTokens[SpecialTokenNames.ImStart];
        int end = tokenizer.SpecialTokens[SpecialTokenNames.ImEnd];
        string text = "<|im_start|>user\nhi<|im_end|><|endoftext|>the<|endoftext|>";
        int[] ids = tokenizer.Encode(text);
        Assert.Equal(start, ids[0]);
        Assert.Equal(2, ids.Count(id => id == eot));
        Assert.Equal(1, ids.Count(id => id == end));
        Assert.Equal(eot, ids[^1]);
        Assert.Equal(text, tokenizer.Decode(ids));
        Assert.Equal([eot], tokenizer.Encode(SpecialTokenNames.EndOfText));
    }

    [Fact]
    public void IncompleteSpecialTokenIsOrdinaryText()
    {
        var tokenizer = Trained.Value;
        int[] ids = tokenizer.Encode("<|endoftext|");
        Assert.DoesNotContain(tokenizer.SpecialTokens[SpecialTokenNames.EndOfText], ids);
        Assert.Equal("<|endoftext|", tokenizer.Decode(ids));
    }

    [Fact]
    public void DecodeRejectsUnknownIds()
    {
        var error = Assert.Throws<TokenizerException>(() => Trained.Value.Decode([1, 500]));
        Assert.Contains("500", error.Message);
    }
}

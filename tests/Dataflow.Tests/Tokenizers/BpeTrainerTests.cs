using Dataflow.Engine.Tokenizers;

namespace Dataflow.Tests.Tokenizers;

public class BpeTrainerTests
{
    private const int Specials = 3;

    [Fact]
    public void LearnsMostFrequentPairsOnHandCheckedExample()
    {
        // Pre-tokens: "hug", " hug" x2, " pug", " pun".
        // 1) u+g occurs 4 times (hug, 2x hug, pug)                      -> "u g"
        // 2) h+ug 3 times                                                 -> "h ug"
        // 3) Ġ+hug and Ġ+p both 2 times; tie goes to the smaller right id
        //    ('p' = 112 < 'hug' = 257)                                    -> "Ġ p"
        // 4) Ġ+hug 2 times                                                -> "Ġ hug"
        var tokenizer = BpeTrainer.Train("hug hug hug pug pun", 256 + 4 + Specials);
        Assert.Equal([("u", "g"), ("h", "ug"), ("Ġ", "p"), ("Ġ", "hug")], tokenizer.Merges);
        Assert.Equal(256, tokenizer.Vocabulary["ug"]);
        Assert.Equal(259, tokenizer.Vocabulary["Ġhug"]);
        Assert.Equal([257, 259, 258, 256, 258, (int)'u', (int)'n'], tokenizer.Encode("hug hug pug pun"));
    }

    [Fact]
    public void ByteTokensHaveTheirByteValueAsIdAndSpecialsTakeTheLastIds()
    {
        var tokenizer = BpeTrainer.Train("hug hug hug pug pun", 256 + 4 + Specials);
        Assert.Equal((int)'a', tokenizer.Vocabulary["a"]);
        Assert.Equal(32, tokenizer.Vocabulary["Ġ"]);
        Assert.Equal(260, tokenizer.SpecialTokens[SpecialTokenNames.EndOfText]);
        Assert.Equal(261, tokenizer.SpecialTokens[SpecialTokenNames.ImStart]);
        Assert.Equal(262, tokenizer.SpecialTokens[SpecialTokenNames.ImEnd]);
    }

    [Theory]
    [InlineData(300)]
    [InlineData(500)]
    public void VocabularyHasExactlyTheRequestedSize(int vocabSize)
    {
        var tokenizer = BpeTrainer.Train(TokenizerTestText.Corpus(20_000), vocabSize);
        Assert.Equal(vocabSize, tokenizer.VocabSize);
        Assert.Equal(vocabSize, tokenizer.Vocabulary.Count);
        Assert.Equal(vocabSize - 256 - Specials, tokenizer.Merges.Count);
    }

    [Fact]
    public void ExtraSpecialTokensCountTowardTheSize()
    {
        var tokenizer = BpeTrainer.Train(TokenizerTestText.Corpus(5_000), 300, ["<|pad|>"]);
        Assert.Equal(300, tokenizer.VocabSize);
        Assert.Equal(299, tokenizer.SpecialTokens["<|pad|>"]);
        Assert.Equal(4, tokenizer.SpecialTokens.Count);
    }

    [Fact]
    public void TrainingIsDeterministic()
    {
        string text = TokenizerTestText.Corpus(10_000);
        var a = BpeTrainer.Train(text, 400);
        var b = BpeTrainer.Train(text, 400);
        Assert.Equal(a.Merges, b.Merges);
    }

    [Fact]
    public void SpecialTokensInTrainingTextDoNotFeedMerges()
    {
        // Without the cut, "<|" / "|>" would be the most frequent pair here.
        string text = string.Concat(Enumerable.Repeat("<|endoftext|>ab ", 50));
        var tokenizer = BpeTrainer.Train(text, 256 + 1 + Specials);
        Assert.Equal([("a", "b")], tokenizer.Merges);
    }

    [Fact]
    public void ReportsProgressOncePerMerge()
    {
        var seen = new List<(int, int)>();
        BpeTrainer.Train("hug hug hug pug pun", 256 + 4 + Specials, progress: (done, total) => seen.Add((done, total)));
        Assert.Equal([(1, 4), (2, 4), (3, 4), (4, 4)], seen);
    }

    [Fact]
    public void TooSmallVocabularyIsAnError()
    {
        var error = Assert.Throws<TokenizerException>(() => BpeTrainer.Train("abc", 100));
        Assert.Contains("259", error.Message);
    }

    [Fact]
    public void StopsEarlyWhenTheTextRunsOutOfPairs()
    {
        var tokenizer = BpeTrainer.Train("ab", 1000);
        Assert.Equal([("a", "b")], tokenizer.Merges);
        Assert.Equal(256 + 1 + Specials, tokenizer.VocabSize);
    }
}

public sealed class BpeTrainerRefusalTests
{
    [Fact]
    public void EmptyTextIsRefused() =>
        Assert.Equal("the training text is empty: there are no pairs to learn merges from",
            Assert.Throws<TokenizerException>(() => BpeTrainer.Train("", 300)).Message);

    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(BpeTrainer.MaxVocabSize + 1)]
    public void AbsurdVocabSizesAreRefusedBeforeAnythingIsAllocated(int vocabSize) =>
        Assert.StartsWith($"vocab size {vocabSize} is too large",
            Assert.Throws<TokenizerException>(() => BpeTrainer.Train("three small words", vocabSize)).Message);

    [Fact]
    public void ALargeButAllowedVocabStopsWhenTheTextRunsOutOfPairs() =>
        Assert.True(BpeTrainer.Train("hug hug pug", BpeTrainer.MaxVocabSize).VocabSize < 300);
}

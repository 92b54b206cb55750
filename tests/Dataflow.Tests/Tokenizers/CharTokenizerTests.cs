using Dataflow.Engine.Tokenizers;

namespace Dataflow.Tests.Tokenizers;

public class CharTokenizerTests
{
    [Fact]
    public void VocabularyIsSortedDistinctCodePoints()
    {
        var tokenizer = CharTokenizer.FromText("hello, wörld 👋");
        Assert.Equal(11, tokenizer.VocabSize); // space , d e h l o r w ö 👋
        Assert.Equal([0, 1], tokenizer.Encode(" ,")); // space (U+0020) sorts before ',' (U+002C)
        Assert.Equal(tokenizer.VocabSize - 1, tokenizer.Encode("👋").Single()); // the largest code point, one id
    }

    [Fact]
    public void RoundTripsTextFromItsVocabulary()
    {
        string text = "First Citizen:\nBefore we proceed any further, hear me speak. — 你好 👋 e\u0301";
        var tokenizer = CharTokenizer.FromText(text);
        int[] ids = tokenizer.Encode(text);
        Assert.Equal(text, tokenizer.Decode(ids));
        Assert.All(ids, id => Assert.InRange(id, 0, tokenizer.VocabSize - 1));
    }

    [Fact]
    public void UnknownCharacterNamesCharacterAndPosition()
    {
        var tokenizer = CharTokenizer.FromText("abc ");
        var error = Assert.Throws<TokenizerException>(() => tokenizer.Encode("ab cx"));
        Assert.Contains("'x'", error.Message);
        Assert.Contains("U+0078", error.Message);
        Assert.Contains("position 4", error.Message);
    }

    [Fact]
    public void PositionCountsFromStartOfTextAcrossSpecialTokens()
    {
        var tokenizer = CharTokenizer.FromText("ab", [SpecialTokenNames.EndOfText]);
        var error = Assert.Throws<TokenizerException>(() => tokenizer.Encode("a<|endoftext|>bz"));
        Assert.Contains("position 15", error.Message);
    }

    [Fact]
    public void SpecialTokensAreSingleIdsAfterTheCharacters()
    {
        var tokenizer = CharTokenizer.FromText("<|>abcdefghijklmnopqrstuvwxyz_", SpecialTokenNames.Defaults);
        int eot = tokenizer.SpecialTokens[SpecialTokenNames.EndOfText];
        Assert.Equal(30, eot);
        Assert.Equal(33, tokenizer.VocabSize);
        int[] ids = tokenizer.Encode("ab<|endoftext|>c<|im_start|>");
        Assert.Equal([0 + 3, 1 + 3, eot, 2 + 3, tokenizer.SpecialTokens[SpecialTokenNames.ImStart]], ids);
        Assert.Equal("ab<|endoftext|>c<|im_start|>", tokenizer.Decode(ids));
    }

    [Fact]
    public void DecodeRejectsIdsOutsideTheVocabulary()
    {
        var tokenizer = CharTokenizer.FromText("ab");
        var error = Assert.Throws<TokenizerException>(() => tokenizer.Decode([0, 2]));
        Assert.Contains("2", error.Message);
    }
}

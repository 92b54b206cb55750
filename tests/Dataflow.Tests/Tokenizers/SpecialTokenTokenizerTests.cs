using Dataflow.Chat;
using Dataflow.Engine.Tokenizers;

namespace Dataflow.Tests.Tokenizers;

/// <summary>Chat markers added to every tokenizer kind: one id each, after the base vocabulary, ordinary text encoded exactly as before, and a JSON round trip.</summary>
public class SpecialTokenTokenizerTests
{
    private const string Ordinary = "What is 12 + 34? The cat sat on the mat.\nstrawberry";

    public static TheoryData<string> Kinds => ["char", "bpe", "tiktoken"];

    private static ITokenizer Base(string kind) => kind switch
    {
        "char" => CharTokenizer.FromText(Ordinary + " 46"),
        "bpe" => BpeTrainer.Train(string.Concat(Enumerable.Repeat(Ordinary + " ", 20)), 300),
        _ => new TiktokenTokenizer("cl100k_base"),
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Ordinary_text_encodes_as_the_base_encodes_it(string kind)
    {
        var baseTokenizer = Base(kind);
        var chat = ChatTokens.AddTo(baseTokenizer);
        Assert.Equal(baseTokenizer.Encode(Ordinary), chat.Encode(Ordinary));
        Assert.Equal(Ordinary, chat.Decode(chat.Encode(Ordinary)));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Each_chat_marker_is_one_id_after_the_base_vocabulary_and_round_trips(string kind)
    {
        var baseTokenizer = Base(kind);
        var chat = ChatTokens.AddTo(baseTokenizer);
        Assert.Equal(baseTokenizer.VocabSize + SpecialTokenNames.Chat.Count, chat.VocabSize);
        for (int i = 0; i < SpecialTokenNames.Chat.Count; i++)
            Assert.Equal([baseTokenizer.VocabSize + i], chat.Encode(SpecialTokenNames.Chat[i]));
        Assert.Equal(chat.VocabSize - 1, chat.SpecialTokens[SpecialTokenNames.Pad]);   // last, so `ignore = vocab - 1` is the pad

        string text = $"{SpecialTokenNames.Bos}{SpecialTokenNames.UserStart}{Ordinary}{SpecialTokenNames.UserEnd}{SpecialTokenNames.AssistantStart}46{SpecialTokenNames.AssistantEnd}";
        int[] ids = chat.Encode(text);
        Assert.Equal(text, chat.Decode(ids));
        Assert.Equal(baseTokenizer.Encode(Ordinary).Length + baseTokenizer.Encode("46").Length + 5, ids.Length);

        var restored = TokenizerFactory.FromJson(chat.ToJson());
        Assert.Equal(chat.Kind, restored.Kind);
        Assert.Equal(chat.VocabSize, restored.VocabSize);
        Assert.Equal(ids, restored.Encode(text));
    }

    [Fact]
    public void A_spec_ending_in_plus_chat_adds_the_markers_and_the_base_keeps_its_own_specials()
    {
        var tokenizer = TokenizerFactory.Create("bpe:300+chat", string.Concat(Enumerable.Repeat(Ordinary + " ", 20)));
        Assert.Equal("bpe+special", tokenizer.Kind);
        Assert.Contains(SpecialTokenNames.EndOfText, tokenizer.SpecialTokens.Keys);     // BPE's own, kept at its id
        Assert.Single(tokenizer.Encode(SpecialTokenNames.AssistantEnd));
        _ = new ChatTokens(tokenizer);    // has every marker
    }

    [Fact]
    public void A_tokenizer_without_the_markers_is_refused_for_chat_naming_them()
    {
        var e = Assert.Throws<Dataflow.Engine.ConfigurationException>(() => new ChatTokens(CharTokenizer.FromText("abc")));
        Assert.Contains(SpecialTokenNames.AssistantStart, e.Message);
        Assert.Contains("+chat", e.Message);
    }
}

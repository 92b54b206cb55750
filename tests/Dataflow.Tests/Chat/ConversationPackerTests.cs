using Dataflow.Chat;
using Dataflow.Chat.Sft;
using Dataflow.Engine.Data;
using Dataflow.Engine.Tokenizers;

namespace Dataflow.Tests.Chat;

/// <summary>Packing whole conversations into rows: targets only where the assistant wrote, padding after, nothing cut.</summary>
public class ConversationPackerTests
{
    private const int Ignore = 999;
    private static readonly ChatRenderer Renderer = new(new ChatTokens(ChatTokens.AddTo(CharTokenizer.FromText("abcdefghijklmnopqrstuvwxyz0123456789 ?!+="))));

    private static RenderedConversation Conversation(string user, string assistant) =>
        Renderer.Render([ChatMessage.User(user), ChatMessage.Assistant(assistant)]);

    [Fact]
    public void Whole_conversations_share_a_row_and_only_assistant_tokens_are_targets()
    {
        var a = Conversation("hi", "yo");        // bos us h i ue as y o ae = 9 tokens
        var b = Conversation("1+1", "2");        // 9 tokens
        var c = Conversation("ok", "k");
        RenderedConversation[] all = [a, b, c];
        int context = a.Length + b.Length + 2;   // a and b fit (with room to spare), c does not
        var packer = new ConversationPacker(context, Ignore, Renderer.Tokens.Pad, i => (all[i % 3], $"conversation {i}"));
        var (tokens, targets) = (new int[context], new int[context]);

        int trained = packer.Fill(tokens, targets);
        Assert.Equal(2, packer.Next);                                          // c waits for the next row
        Assert.Equal([.. a.Tokens, .. b.Tokens], tokens[..(a.Length + b.Length)]);
        Assert.All(tokens[(a.Length + b.Length)..], t => Assert.Equal(Renderer.Tokens.Pad, t));
        int[] expected = [.. Enumerable.Range(0, context).Select(t =>
        {
            int[] ids = [.. a.Tokens, .. b.Tokens, Renderer.Tokens.Pad, Renderer.Tokens.Pad, Renderer.Tokens.Pad];
            bool[] train = [.. a.Trained, .. b.Trained, false, false, false];
            return train[t + 1] ? ids[t + 1] : Ignore;
        })];
        Assert.Equal(expected, targets);
        Assert.Equal(a.Trained.Count(x => x) + b.Trained.Count(x => x), trained);
        // The assistant's end token is a target; the next conversation's bos is not.
        Assert.Equal(Renderer.Tokens.AssistantEnd, targets[a.Length - 2]);
        Assert.Equal(Ignore, targets[a.Length - 1]);

        packer.Fill(tokens, targets);
        Assert.Equal(c.Tokens, tokens[..c.Length]);
    }

    [Fact]
    public void A_conversation_longer_than_a_row_is_refused_naming_it()
    {
        var long_ = Conversation("abcdefghij", "klmnopqrst");
        var packer = new ConversationPacker(8, Ignore, Renderer.Tokens.Pad, i => (long_, "c.jsonl:7"));
        var e = Assert.Throws<DataException>(() => packer.Fill(new int[8], new int[8]));
        Assert.StartsWith("c.jsonl:7: the conversation is 25 tokens but a row of the model's context 8 holds 9", e.Message);
    }

    [Fact]
    public void A_counted_source_ends_with_padding_rows()
    {
        var a = Conversation("hi", "yo");
        var packer = new ConversationPacker(16, Ignore, Renderer.Tokens.Pad, _ => (a, "a")) { Count = 1 };
        var (tokens, targets) = (new int[16], new int[16]);
        Assert.True(packer.Fill(tokens, targets) > 0);
        Assert.Equal(0, packer.Fill(tokens, targets));
        Assert.All(targets, t => Assert.Equal(Ignore, t));
    }
}

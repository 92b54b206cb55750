using Dataflow.Engine.Data;

namespace Dataflow.Chat.Sft;

/// <summary>
/// Packs whole conversations into rows of a language model's batch, nanochat-style: a row of context
/// C holds C + 1 tokens (the last is only a target), conversations are laid end to end while they fit
/// and the rest is padding. No conversation is ever cut: one longer than C + 1 tokens is refused,
/// naming it. Targets are the next token where the loss trains on it (the assistant wrote it) and
/// the model's ignore id everywhere else, which <c>cross_entropy(…, ignore = …)</c> skips.
/// </summary>
public sealed class ConversationPacker(int context, int ignore, int pad, Func<long, (RenderedConversation Conversation, string Source)> draw)
{
    private readonly int[] _ids = new int[context + 1];
    private readonly bool[] _trained = new bool[context + 1];
    private (RenderedConversation Conversation, string Source)? _pending;

    public int Context => context;

    /// <summary>The index of the next conversation to draw (the pending one, if a row left it over).</summary>
    public long Next { get; set; }

    /// <summary>Whether <see cref="Fill"/> stops at the end of the conversations instead of drawing forever.</summary>
    public long? Count { get; init; }

    /// <summary>Fills one row; returns how many targets it trains on (0: the conversations ran out and the row is padding).</summary>
    public int Fill(Span<int> tokens, Span<int> targets)
    {
        int used = 0;
        while (Count is not { } count || Next < count)
        {
            var (conversation, source) = _pending ??= draw(Next);
            if (conversation.Length > context + 1)
                throw new DataException($"{source}: the conversation is {conversation.Length} tokens but a row of the model's context {context} holds {context + 1}; " +
                                        "conversations are never cut mid-turn, so split it into shorter ones or train a model with a longer ctx");
            if (used + conversation.Length > context + 1) break;
            conversation.Tokens.CopyTo(_ids, used);
            conversation.Trained.CopyTo(_trained, used);
            used += conversation.Length;
            (_pending, Next) = (null, Next + 1);
        }
        Array.Fill(_ids, pad, used, context + 1 - used);
        Array.Fill(_trained, false, used, context + 1 - used);
        int trainedTargets = 0;
        for (int t = 0; t < context; t++)
        {
            tokens[t] = _ids[t];
            bool train = _trained[t + 1];
            targets[t] = train ? _ids[t + 1] : ignore;
            if (train) trainedTargets++;
        }
        return trainedTargets;
    }
}

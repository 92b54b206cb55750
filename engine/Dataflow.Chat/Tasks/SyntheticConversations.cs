namespace Dataflow.Chat.Tasks;

/// <summary>
/// The synthetic SFT conversations: one or two exchanges drawn from the task mixture, sometimes
/// under a system message, so the assistant also learns to follow a system turn and a second question
/// (each only where <paramref name="fits"/> says the conversation still fits the model's context).
/// Conversation <c>i</c> depends on the seed and <c>i</c> alone (so a batch source's state is one counter).
/// </summary>
public sealed class SyntheticConversations(TaskMixture mixture, DataSplit split, int seed, Func<IReadOnlyList<ChatMessage>, bool> fits)
{
    private static readonly string[] Systems = ["You are a helpful assistant.", "You are Dataflow's small assistant.", "Answer briefly."];

    public IReadOnlyList<ChatMessage> At(long index)
    {
        var random = new Random(SeedOf(seed, index, split));
        var first = mixture.Next(random, split).Conversation;
        List<ChatMessage> messages = [.. first];
        var system = ChatMessage.System(Systems[random.Next(Systems.Length)]);
        if (random.Next(10) == 0 && fits([system, .. messages])) messages.Insert(0, system);
        if (random.Next(4) == 0)
        {
            List<ChatMessage> longer = [.. messages, .. mixture.Next(random, split).Conversation];
            if (fits(longer)) messages = longer;
        }
        return messages;
    }

    /// <summary>A seed for conversation <paramref name="index"/> that is the same in every process (HashCode.Combine is not).</summary>
    internal static int SeedOf(int seed, long index, DataSplit split)
    {
        ulong x = ((ulong)(uint)seed << 33) ^ (ulong)index ^ ((ulong)split << 62);
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;    // splitmix64's finaliser
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return (int)((x ^ (x >> 31)) & int.MaxValue);
    }
}

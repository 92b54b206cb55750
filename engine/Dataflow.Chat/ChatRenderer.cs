using Dataflow.Engine.Data;

namespace Dataflow.Chat;

/// <summary>A conversation as token ids, and for each id whether the loss trains on it (the assistant wrote it).</summary>
public sealed record RenderedConversation(int[] Tokens, bool[] Trained)
{
    public int Length => Tokens.Length;
}

/// <summary>
/// Renders conversations in nanochat's format: <c>&lt;|bos|&gt;</c>, then each turn framed by its
/// role's markers. An assistant turn is everything from the assistant's first message to the next
/// user or system message: its text, its calculator calls (<c>&lt;|python_start|&gt;expr&lt;|python_end|&gt;</c>)
/// and their outputs (<c>&lt;|output_start|&gt;result&lt;|output_end|&gt;</c>), closed by <c>&lt;|assistant_end|&gt;</c>.
/// The loss mask is 1 exactly on what the assistant writes: its text, its calls with their markers,
/// and its end token; 0 on the bos, the system and user turns, the assistant's start token (the
/// prompt gives it) and the tool outputs (the runtime writes them).
/// </summary>
public sealed class ChatRenderer(ChatTokens tokens)
{
    public ChatTokens Tokens { get; } = tokens;

    /// <summary>The whole conversation with its mask, for training.</summary>
    public RenderedConversation Render(IReadOnlyList<ChatMessage> messages)
    {
        var (ids, trained) = (new List<int>(), new List<bool>());
        Append(messages, ids, trained, openFinalTurn: false);
        return new RenderedConversation([.. ids], [.. trained]);
    }

    /// <summary>
    /// The conversation so far followed by <c>&lt;|assistant_start|&gt;</c>: what the model continues to
    /// write the assistant's next turn. <paramref name="messages"/> must not end inside an assistant turn.
    /// </summary>
    public int[] RenderPrompt(IReadOnlyList<ChatMessage> messages)
    {
        if (messages.Count > 0 && messages[^1].InAssistantTurn)
            throw new DataException("a prompt for the assistant must end with a user or system message, not inside the assistant's turn");
        var (ids, trained) = (new List<int>(), new List<bool>());
        Append(messages, ids, trained, openFinalTurn: true);
        return [.. ids];
    }

    private void Append(IReadOnlyList<ChatMessage> messages, List<int> ids, List<bool> trained, bool openFinalTurn)
    {
        var t = Tokens;
        void Add(int id, bool train) { ids.Add(id); trained.Add(train); }
        void Text(string text, bool train) { foreach (int id in t.Tokenizer.Encode(text)) Add(id, train); }

        Add(t.Bos, false);
        bool inAssistant = false;
        for (int i = 0; i < messages.Count; i++)
        {
            var m = messages[i];
            if (m.InAssistantTurn && !inAssistant) { Add(t.AssistantStart, false); inAssistant = true; }
            if (!m.InAssistantTurn && inAssistant) { Add(t.AssistantEnd, true); inAssistant = false; }
            switch (m.Role)
            {
                case ChatRole.System: Add(t.SystemStart, false); Text(m.Content, false); Add(t.SystemEnd, false); break;
                case ChatRole.User: Add(t.UserStart, false); Text(m.Content, false); Add(t.UserEnd, false); break;
                case ChatRole.Assistant: Text(m.Content, true); break;
                case ChatRole.ToolCall: Add(t.PythonStart, true); Text(m.Content, true); Add(t.PythonEnd, true); break;
                case ChatRole.ToolOutput:
                    if (i == 0 || messages[i - 1].Role != ChatRole.ToolCall)
                        throw new DataException($"message {i + 1}: a tool_output must follow the tool_call it answers");
                    Add(t.OutputStart, false); Text(m.Content, false); Add(t.OutputEnd, false);
                    break;
            }
        }
        if (inAssistant) Add(t.AssistantEnd, true);
        if (openFinalTurn) Add(t.AssistantStart, false);
    }
}

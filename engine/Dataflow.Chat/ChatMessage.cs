namespace Dataflow.Chat;

/// <summary>
/// Who wrote a message. A calculator call (<see cref="ToolCall"/>) is the assistant's and is trained
/// on; its result (<see cref="ToolOutput"/>) is the runtime's and is not.
/// </summary>
public enum ChatRole { System, User, Assistant, ToolCall, ToolOutput }

/// <summary>One message of a conversation.</summary>
public sealed record ChatMessage(ChatRole Role, string Content)
{
    public static ChatMessage System(string text) => new(ChatRole.System, text);
    public static ChatMessage User(string text) => new(ChatRole.User, text);
    public static ChatMessage Assistant(string text) => new(ChatRole.Assistant, text);
    public static ChatMessage Call(string expression) => new(ChatRole.ToolCall, expression);
    public static ChatMessage Output(string result) => new(ChatRole.ToolOutput, result);

    /// <summary>Whether the message belongs to the assistant's turn (its text, its calls, their outputs).</summary>
    public bool InAssistantTurn => Role is ChatRole.Assistant or ChatRole.ToolCall or ChatRole.ToolOutput;

    /// <summary>The role's name in JSONL files.</summary>
    public static string NameOf(ChatRole role) => role switch
    {
        ChatRole.System => "system",
        ChatRole.User => "user",
        ChatRole.Assistant => "assistant",
        ChatRole.ToolCall => "tool_call",
        _ => "tool_output",
    };

    public static ChatRole? Parse(string name) => name switch
    {
        "system" => ChatRole.System,
        "user" => ChatRole.User,
        "assistant" => ChatRole.Assistant,
        "tool_call" => ChatRole.ToolCall,
        "tool_output" => ChatRole.ToolOutput,
        _ => null,
    };
}

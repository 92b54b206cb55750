using System.Text;
using System.Text.Json;
using Dataflow.Engine.Data;

namespace Dataflow.Chat;

/// <summary>A conversation read from a file, with the line it came from (for errors about it later).</summary>
public sealed record SourcedConversation(IReadOnlyList<ChatMessage> Messages, string Source);

/// <summary>
/// Reads conversations in the common fine-tuning format, one JSON object per line:
/// <c>{"messages": [{"role": "user", "content": "…"}, {"role": "assistant", "content": "…"}]}</c>.
/// Roles: system, user, assistant, tool_call (the assistant's calculator call, e.g. "12*34") and
/// tool_output (its result, which must follow the call). Blank lines are skipped; anything else
/// that is wrong is a <see cref="DataException"/> naming the file, line and (for bad JSON) column.
/// </summary>
public static class ChatJsonl
{
    public static IReadOnlyList<SourcedConversation> Read(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataException($"--data {path}: cannot read the conversations: {(e is FileNotFoundException or DirectoryNotFoundException ? "no such file" : e.Message)}", e);
        }
        var conversations = Parse(TextValidation.DecodeUtf8(bytes, $"--data {path}"), path);
        if (conversations.Count == 0) throw new DataException($"{path}: holds no conversations");
        return conversations;
    }

    /// <param name="name">Names the text in errors (its path).</param>
    public static IReadOnlyList<SourcedConversation> Parse(string text, string name)
    {
        var result = new List<SourcedConversation>();
        string[] lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].TrimEnd('\r');
            if (line.Trim().Length == 0) continue;
            string where = $"{name}:{i + 1}";
            result.Add(new SourcedConversation(ParseLine(line, where), where));
        }
        return result;
    }

    private static List<ChatMessage> ParseLine(string line, string where)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(line); }
        catch (JsonException e)
        {
            throw new DataException($"{where}:{(e.BytePositionInLine ?? 0) + 1}: not valid JSON: {FirstSentence(e.Message)}", e);
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array)
                throw new DataException($"{where}: expected an object with a \"messages\" array, e.g. {{\"messages\": [{{\"role\": \"user\", \"content\": \"Hi\"}}, {{\"role\": \"assistant\", \"content\": \"Hello!\"}}]}}");
            var parsed = new List<ChatMessage>();
            int index = 0;
            foreach (var m in messages.EnumerateArray())
            {
                index++;
                if (m.ValueKind != JsonValueKind.Object
                    || !m.TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String
                    || !m.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.String)
                    throw new DataException($"{where}: message {index} needs a \"role\" string and a \"content\" string");
                var kind = ChatMessage.Parse(role.GetString()!)
                    ?? throw new DataException($"{where}: message {index} has role '{role.GetString()}'; expected system, user, assistant, tool_call or tool_output");
                if (kind == ChatRole.ToolOutput && (parsed.Count == 0 || parsed[^1].Role != ChatRole.ToolCall))
                    throw new DataException($"{where}: message {index} is a tool_output that does not follow a tool_call");
                parsed.Add(new ChatMessage(kind, content.GetString()!));
            }
            if (!parsed.Any(m => m.Role is ChatRole.Assistant or ChatRole.ToolCall))
                throw new DataException($"{where}: the conversation has no assistant message, so there is nothing to learn from it");
            return parsed;
        }
    }

    private static string FirstSentence(string message)
    {
        int cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }

    /// <summary>One conversation as a JSONL line (the inverse of <see cref="Parse"/>).</summary>
    public static string Format(IReadOnlyList<ChatMessage> messages)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteStartArray("messages");
            foreach (var m in messages)
            {
                w.WriteStartObject();
                w.WriteString("role", ChatMessage.NameOf(m.Role));
                w.WriteString("content", m.Content);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }
}

using Dataflow.Chat;
using Dataflow.Engine.Data;
using Dataflow.Tests.Support;

namespace Dataflow.Tests.Chat;

/// <summary>Conversations in JSONL: what parses, and the line (and column) named for what does not.</summary>
public class ChatJsonlTests
{
    private const string Good = """{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}""";

    [Fact]
    public void Lines_parse_to_conversations_and_blank_lines_are_skipped()
    {
        string text = Good + "\n\n" +
            """{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "12*34?"}, {"role": "tool_call", "content": "12*34"}, {"role": "tool_output", "content": "408"}, {"role": "assistant", "content": "408"}]}""" + "\r\n";
        var conversations = ChatJsonl.Parse(text, "c.jsonl");
        Assert.Equal(2, conversations.Count);
        Assert.Equal("c.jsonl:3", conversations[1].Source);
        Assert.Equal([ChatRole.System, ChatRole.User, ChatRole.ToolCall, ChatRole.ToolOutput, ChatRole.Assistant], conversations[1].Messages.Select(m => m.Role));
        Assert.Equal(conversations[1].Messages, ChatJsonl.Parse(ChatJsonl.Format(conversations[1].Messages), "again")[0].Messages);
    }

    [Theory]
    [InlineData("""{"messages": [{"role": "user", "content": "Hi"}, """, "c.jsonl:2:", "not valid JSON")]
    [InlineData("""{"turns": []}""", "c.jsonl:2:", "\"messages\" array")]
    [InlineData("""{"messages": [{"role": "robot", "content": "Hi"}]}""", "c.jsonl:2:", "role 'robot'")]
    [InlineData("""{"messages": [{"role": "user", "content": 5}]}""", "c.jsonl:2:", "message 1 needs")]
    [InlineData("""{"messages": [{"role": "user", "content": "Hi"}]}""", "c.jsonl:2:", "no assistant message")]
    [InlineData("""{"messages": [{"role": "user", "content": "Hi"}, {"role": "tool_output", "content": "4"}, {"role": "assistant", "content": "4"}]}""", "c.jsonl:2:", "message 2 is a tool_output")]
    public void A_bad_line_is_refused_naming_the_file_and_line(string badLine, string where, string what)
    {
        var e = Assert.Throws<DataException>(() => ChatJsonl.Parse(Good + "\n" + badLine + "\n" + Good, "c.jsonl"));
        Assert.StartsWith(where, e.Message);
        Assert.Contains(what, e.Message);
    }

    [Fact]
    public void Bad_json_names_the_column_too()
    {
        var e = Assert.Throws<DataException>(() => ChatJsonl.Parse("""{"messages": [} """, "c.jsonl"));
        Assert.Matches(@"^c\.jsonl:1:\d+: not valid JSON", e.Message);
    }

    [Fact]
    public void A_missing_or_empty_file_is_refused()
    {
        using var dir = new TempDirectory();
        Assert.Contains("no such file", Assert.Throws<DataException>(() => ChatJsonl.Read(dir.File("none.jsonl"))).Message);
        File.WriteAllText(dir.File("empty.jsonl"), "\n\n");
        Assert.Contains("holds no conversations", Assert.Throws<DataException>(() => ChatJsonl.Read(dir.File("empty.jsonl"))).Message);
    }
}

using Dataflow.Chat;
using Dataflow.Engine.Data;
using Dataflow.Engine.Tokenizers;
using N = Dataflow.Engine.Tokenizers.SpecialTokenNames;

namespace Dataflow.Tests.Chat;

/// <summary>Rendering of every role in nanochat's format, and a loss mask that is exactly the assistant's tokens.</summary>
public class ChatRendererTests
{
    private static readonly ChatRenderer Renderer = new(new ChatTokens(ChatTokens.AddTo(CharTokenizer.FromText(
        new string([.. Enumerable.Range(32, 95).Select(c => (char)c)])))));

    private static string Text(IEnumerable<int> ids) => Renderer.Tokens.Tokenizer.Decode([.. ids]);

    private static readonly ChatMessage[] EveryRole =
    [
        ChatMessage.System("Be brief."),
        ChatMessage.User("What is 12 * 34?"),
        ChatMessage.Call("12*34"),
        ChatMessage.Output("408"),
        ChatMessage.Assistant("408"),
        ChatMessage.User("Thanks!"),
        ChatMessage.Assistant("You are welcome!"),
    ];

    [Fact]
    public void Every_role_renders_between_its_markers()
    {
        var rendered = Renderer.Render(EveryRole);
        Assert.Equal(
            $"{N.Bos}{N.SystemStart}Be brief.{N.SystemEnd}{N.UserStart}What is 12 * 34?{N.UserEnd}" +
            $"{N.AssistantStart}{N.PythonStart}12*34{N.PythonEnd}{N.OutputStart}408{N.OutputEnd}408{N.AssistantEnd}" +
            $"{N.UserStart}Thanks!{N.UserEnd}{N.AssistantStart}You are welcome!{N.AssistantEnd}",
            Text(rendered.Tokens));
        Assert.Equal(rendered.Tokens.Length, rendered.Trained.Length);
    }

    [Fact]
    public void The_mask_is_exactly_what_the_assistant_writes()
    {
        var rendered = Renderer.Render(EveryRole);
        // The trained tokens, in order, are the assistant's calls, text and end tokens, nothing else.
        var trained = Text(rendered.Tokens.Where((_, i) => rendered.Trained[i]));
        Assert.Equal($"{N.PythonStart}12*34{N.PythonEnd}408{N.AssistantEnd}You are welcome!{N.AssistantEnd}", trained);
        // And the untrained ones are the prompt side: bos, system, users, the assistant's start token and the tool output.
        var untrained = Text(rendered.Tokens.Where((_, i) => !rendered.Trained[i]));
        Assert.Equal(
            $"{N.Bos}{N.SystemStart}Be brief.{N.SystemEnd}{N.UserStart}What is 12 * 34?{N.UserEnd}{N.AssistantStart}{N.OutputStart}408{N.OutputEnd}" +
            $"{N.UserStart}Thanks!{N.UserEnd}{N.AssistantStart}", untrained);
    }

    [Fact]
    public void A_prompt_ends_with_the_assistant_start_token_and_matches_the_training_render()
    {
        ChatMessage[] prompt = [ChatMessage.User("Hi")];
        int[] ids = Renderer.RenderPrompt(prompt);
        Assert.Equal($"{N.Bos}{N.UserStart}Hi{N.UserEnd}{N.AssistantStart}", Text(ids));
        var full = Renderer.Render([.. prompt, ChatMessage.Assistant("Hello!")]);
        Assert.Equal(ids, full.Tokens[..ids.Length]);    // generation continues exactly where training's turn starts
        Assert.Throws<DataException>(() => Renderer.RenderPrompt([ChatMessage.User("Hi"), ChatMessage.Assistant("Hello")]));
    }

    [Fact]
    public void A_tool_output_that_answers_no_call_is_refused()
    {
        var e = Assert.Throws<DataException>(() => Renderer.Render([ChatMessage.User("Hi"), ChatMessage.Output("4")]));
        Assert.Contains("message 2", e.Message);
    }
}

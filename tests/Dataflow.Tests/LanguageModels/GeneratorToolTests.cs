using Dataflow.Engine.Tokenizers;
using Dataflow.Generation;

namespace Dataflow.Tests.LanguageModels;

/// <summary>
/// A tool's answer fed into a sequence mid-generation (the chat calculator's path): it joins the
/// tokens and the text, and what follows is exactly what the model gives when the answer was part of the prompt.
/// </summary>
public class GeneratorToolTests
{
    private const int Context = GeneratorTests.Context;
    private static readonly CharTokenizer Tokenizer = GeneratorTests.Tokenizer;

    /// <summary>Answers "kkk" after the first generated token, once.</summary>
    private sealed class AfterFirstToken(int[] answer) : IToolCalls
    {
        public int Calls { get; private set; }

        public int[]? Respond(IReadOnlyList<int> tokens, int promptLength)
        {
            if (tokens.Count != promptLength + 1) return null;
            Calls++;
            return answer;
        }
    }

    [Theory]
    [InlineData("abc", 1)]
    [InlineData("abcdefghijabcdefghijabcdefghij", 2)]   // 30 + 1 + 3 tokens outgrow the context: the window slides
    public void Generation_continues_after_the_answer_as_if_it_were_prompt(string prompt, int slots)
    {
        int[] answer = Tokenizer.Encode("kkk");
        var tool = new AfterFirstToken(answer);
        using var session = TinyGpt.NewSession();
        using var generator = GeneratorTests.NewGenerator(session, slots);
        var greedy = new SamplingOptions(Temperature: 0);
        int withTool = generator.Submit(new GenerationRequest(Tokenizer.Encode(prompt)) { MaxTokens = 6, Sampling = greedy, Tools = tool });
        var result = generator.Run()[withTool];

        Assert.Equal(1, tool.Calls);
        Assert.Equal(answer.Length + 6, result.Tokens.Length);           // the answer does not count against MaxTokens
        Assert.Equal(answer, result.Tokens[1..(1 + answer.Length)]);
        Assert.Equal(Tokenizer.Decode(result.Tokens), result.Text);      // and is streamed as text

        // The same prefix given as a prompt (a fresh sequence whose window is the same tokens) continues the same way.
        int[] prefix = [.. Tokenizer.Encode(prompt), .. result.Tokens[..(1 + answer.Length)]];
        int[] window = prefix.Length <= Context ? prefix : prefix[^((Context + 1) / 2)..];
        int plain = generator.Submit(new GenerationRequest(window) { MaxTokens = 5, Sampling = greedy });
        Assert.Equal(result.Tokens[(1 + answer.Length)..], generator.Run()[plain].Tokens);
    }
}

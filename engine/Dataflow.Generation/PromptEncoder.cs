using Dataflow.Engine;
using Dataflow.Engine.Tokenizers;

namespace Dataflow.Generation;

/// <summary>Prompt text to tokens, with the rules <c>generate</c> documents: an empty prompt starts from &lt;|endoftext|&gt; where the tokenizer has it; a prompt longer than the context is refused.</summary>
public static class PromptEncoder
{
    public const string EndOfText = "<|endoftext|>";

    /// <param name="what">Names the prompt in errors: "--prompt", "--prompts p.txt line 3".</param>
    public static int[] Encode(ITokenizer tokenizer, string prompt, int context, string what = "--prompt")
    {
        if (prompt.Length == 0)
            return tokenizer.SpecialTokens.TryGetValue(EndOfText, out int eot)
                ? [eot]
                : throw new ConfigurationException($"{what} is empty and the {tokenizer.Kind} tokenizer has no {EndOfText} to start from; give a prompt");
        int[] ids = tokenizer.Encode(prompt);
        if (ids.Length > context)
            throw new ConfigurationException($"{what} is {ids.Length} tokens but the model's context is {context} tokens; shorten the prompt");
        return ids;
    }
}

namespace Dataflow.Generation;

/// <summary>
/// A tool the generated text can call (a chat model's calculator): after each token a sequence
/// samples, the generator asks whether that token completes a call, and feeds what the tool answers
/// (its output turn, as tokens) into the sequence before it samples again. The answer is part of the
/// sequence's text and tokens, but was not sampled.
/// </summary>
public interface IToolCalls
{
    /// <param name="tokens">The sequence so far, prompt first; its last token was just sampled.</param>
    /// <param name="promptLength">How many of <paramref name="tokens"/> are the prompt.</param>
    /// <returns>Tokens to append, or null when the last token completes no call.</returns>
    int[]? Respond(IReadOnlyList<int> tokens, int promptLength);
}

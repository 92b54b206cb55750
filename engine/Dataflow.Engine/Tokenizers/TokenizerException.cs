namespace Dataflow.Engine.Tokenizers;

/// <summary>
/// A tokenizer could not be built, loaded or applied because of its input (a bad spec, a malformed
/// vocabulary file, a character outside the vocabulary). The runner maps it to exit code 1.
/// </summary>
public sealed class TokenizerException : Exception
{
    public TokenizerException(string message) : base(message) { }

    public TokenizerException(string message, Exception inner) : base(message, inner) { }
}

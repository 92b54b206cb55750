namespace Dataflow.Engine.Tokenizers;

/// <summary>
/// Decodes tokens as they arrive, for streaming output. A byte-level tokenizer can split one
/// character's UTF-8 bytes over several tokens, and decoding such a token alone gives U+FFFD, so
/// text ending in U+FFFD is held back until the tokens that complete it arrive (or the stream
/// ends). Works for every <see cref="ITokenizer"/>; a char tokenizer simply never holds anything.
/// </summary>
public sealed class StreamingDecoder(ITokenizer tokenizer)
{
    /// <summary>A UTF-8 character is at most 4 bytes, so a longer run of holding is a real U+FFFD.</summary>
    private const int MaxHeld = 4;

    private readonly List<int> _pending = [];

    /// <summary>The text that <paramref name="token"/> completes; empty while a character is incomplete.</summary>
    public string Push(int token)
    {
        _pending.Add(token);
        string text = tokenizer.Decode(_pending.ToArray());
        if (text.EndsWith('\uFFFD') && _pending.Count < MaxHeld) return "";
        _pending.Clear();
        return text;
    }

    /// <summary>Whatever is still held back, decoded as it is.</summary>
    public string Flush()
    {
        string text = _pending.Count == 0 ? "" : tokenizer.Decode(_pending.ToArray());
        _pending.Clear();
        return text;
    }
}

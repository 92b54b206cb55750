namespace Dataflow.Engine.Tokenizers;

/// <summary>
/// Turns text into token ids and back. Every kind serialises itself to a self-contained JSON
/// string so that a checkpoint can carry the exact tokenizer its model was trained with.
/// </summary>
public interface ITokenizer
{
    /// <summary>"char", "bpe", "tiktoken:cl100k_base", …; the "kind" field of <see cref="ToJson"/>.</summary>
    string Kind { get; }

    /// <summary>One more than the largest id Encode can return (the embedding table's height).</summary>
    int VocabSize { get; }

    /// <summary>Literal strings that always encode to one id and are never split, e.g. "&lt;|endoftext|&gt;".</summary>
    IReadOnlyDictionary<string, int> SpecialTokens { get; }

    int[] Encode(string text);

    string Decode(ReadOnlySpan<int> ids);

    string ToJson();
}

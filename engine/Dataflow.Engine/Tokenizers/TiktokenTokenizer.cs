using System.Text.Json;
using MlTiktoken = Microsoft.ML.Tokenizers.TiktokenTokenizer;

namespace Dataflow.Engine.Tokenizers;

/// <summary>
/// OpenAI's pretrained encodings (cl100k_base, o200k_base, gpt2) through Microsoft.ML.Tokenizers,
/// whose data packages ship the vocabularies, so nothing is downloaded. The serialised form is just
/// the encoding name: the data is fixed by the package version.
/// </summary>
public sealed class TiktokenTokenizer : ITokenizer
{
    /// <summary>The encodings the referenced data packages provide.</summary>
    public static IReadOnlyList<string> Encodings { get; } = ["cl100k_base", "o200k_base", "gpt2"];

    private readonly MlTiktoken _inner;
    private readonly SpecialTokenSplitter _specials;

    public TiktokenTokenizer(string encoding)
    {
        if (!Encodings.Contains(encoding))
            throw new TokenizerException($"unknown tiktoken encoding '{encoding}': expected one of {string.Join(", ", Encodings)}");
        Encoding = encoding;
        // "gpt2" is a model name to the library (its encoding, r50k_base, lives in the Gpt2 data package).
        _inner = encoding == "gpt2" ? MlTiktoken.CreateForModel("gpt2") : MlTiktoken.CreateForEncoding(encoding);
        var special = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (token, id) in _inner.SpecialTokens ?? new Dictionary<string, int>()) special[token] = id;
        SpecialTokens = special;
        _specials = new SpecialTokenSplitter(special.Keys);
        // The library does not expose its id table; in all three encodings the special tokens hold
        // the highest ids (cl100k_base 100276, o200k_base 200018, gpt2 50256), so they fix the size.
        VocabSize = special.Values.Max() + 1;
    }

    public string Encoding { get; }

    public string Kind => $"tiktoken:{Encoding}";

    public int VocabSize { get; }

    public IReadOnlyDictionary<string, int> SpecialTokens { get; }

    /// <summary>
    /// Special tokens are cut out first, the rest is pre-tokenized here on code points
    /// (<see cref="TiktokenPreTokenizer"/>; the library's own pre-tokenizer matches UTF-16 units),
    /// and each piece goes to the library's byte-pair encoder as it is.
    /// </summary>
    public int[] Encode(string text)
    {
        var ids = new List<int>(text.Length / 3 + 1);
        _specials.Split(text,
            chunk => TiktokenPreTokenizer.Split(Encoding, chunk.AsSpan(), piece =>
                ids.AddRange(_inner.EncodeToIds(piece.ToString(), considerPreTokenization: false, considerNormalization: false))),
            special => ids.Add(SpecialTokens[special]));
        return [.. ids];
    }

    public string Decode(ReadOnlySpan<int> ids)
    {
        // The library silently drops ids it does not know, so out-of-range ids are refused here.
        // (Ids in the unassigned gap below the special tokens still decode to nothing.)
        foreach (int id in ids)
        {
            if ((uint)id >= (uint)VocabSize)
                throw new TokenizerException($"token id {id} is not in the {Encoding} vocabulary (size {VocabSize})");
        }
        return _inner.Decode(ids.ToArray())
            ?? throw new TokenizerException($"the {Encoding} vocabulary cannot decode these ids");
    }

    public string ToJson() => JsonSerializer.Serialize(new { kind = Kind });
}

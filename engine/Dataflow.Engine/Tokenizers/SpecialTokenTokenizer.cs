using System.Text;
using System.Text.Json;

namespace Dataflow.Engine.Tokenizers;

/// <summary>
/// Any tokenizer with more special tokens (a chat model's role and tool markers): each added token
/// gets the next id after the base vocabulary, unless the base already has it as a special token.
/// Text between special tokens goes to the base unchanged, so ordinary text encodes exactly as the
/// base encodes it; decoding hands the base each run of its own ids whole (a byte-level run may
/// split a character's bytes over tokens).
/// </summary>
public sealed class SpecialTokenTokenizer : ITokenizer
{
    private const string KindSuffix = "+special";

    private readonly ITokenizer _base;
    private readonly string[] _added;
    private readonly Dictionary<string, int> _special;
    private readonly Dictionary<int, string> _addedById;
    private readonly SpecialTokenSplitter _splitter;

    public SpecialTokenTokenizer(ITokenizer baseTokenizer, IEnumerable<string> added)
    {
        _base = baseTokenizer;
        _added = added.Distinct(StringComparer.Ordinal).ToArray();
        _special = new Dictionary<string, int>(baseTokenizer.SpecialTokens, StringComparer.Ordinal);
        _addedById = [];
        int next = baseTokenizer.VocabSize;
        foreach (string token in _added)
        {
            if (token.Length == 0) throw new TokenizerException("a special token cannot be empty");
            if (_special.ContainsKey(token)) continue;
            _special[token] = next;
            _addedById[next++] = token;
        }
        VocabSize = next;
        _splitter = new SpecialTokenSplitter(_special.Keys);
    }

    /// <summary>The tokenizer the ordinary text goes to.</summary>
    public ITokenizer Base => _base;

    public string Kind => _base.Kind + KindSuffix;

    public int VocabSize { get; }

    public IReadOnlyDictionary<string, int> SpecialTokens => _special;

    public int[] Encode(string text)
    {
        var ids = new List<int>(text.Length);
        _splitter.Split(text, chunk => ids.AddRange(_base.Encode(chunk)), special => ids.Add(_special[special]));
        return [.. ids];
    }

    public string Decode(ReadOnlySpan<int> ids)
    {
        var text = new StringBuilder();
        int run = 0;
        for (int i = 0; i <= ids.Length; i++)
        {
            if (i < ids.Length && !_addedById.ContainsKey(ids[i])) continue;
            if (i > run) text.Append(_base.Decode(ids[run..i]));
            if (i < ids.Length) text.Append(_addedById[ids[i]]);
            run = i + 1;
        }
        return text.ToString();
    }

    public string ToJson()
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteString("kind", Kind);
            w.WritePropertyName("base");
            using (var inner = JsonDocument.Parse(_base.ToJson())) inner.RootElement.WriteTo(w);
            w.WriteStartArray("added");
            foreach (string token in _added) w.WriteStringValue(token);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>Whether a serialised kind is this wrapper's.</summary>
    internal static bool IsKind(string kind) => kind.EndsWith(KindSuffix, StringComparison.Ordinal);

    internal static SpecialTokenTokenizer FromJson(JsonElement root)
    {
        const string source = "tokenizer JSON";
        if (!root.TryGetProperty("base", out var inner) || inner.ValueKind != JsonValueKind.Object)
            throw new TokenizerException($"{source}: a tokenizer with added special tokens needs its \"base\" tokenizer");
        if (!root.TryGetProperty("added", out var added) || added.ValueKind != JsonValueKind.Array)
            throw new TokenizerException($"{source}: a tokenizer with added special tokens needs an \"added\" array");
        var tokens = added.EnumerateArray()
            .Select(t => t.ValueKind == JsonValueKind.String ? t.GetString()! : throw new TokenizerException($"{source}: added special tokens must be strings"))
            .ToList();
        return new SpecialTokenTokenizer(TokenizerFactory.FromJson(inner.GetRawText()), tokens);
    }
}

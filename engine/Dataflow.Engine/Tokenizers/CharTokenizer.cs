using System.Text;
using System.Text.Json;

namespace Dataflow.Engine.Tokenizers;

/// <summary>
/// One id per Unicode code point (nanoGPT's character-level Shakespeare): the vocabulary is the
/// sorted distinct code points of the training text; optional special tokens get the ids after them.
/// </summary>
public sealed class CharTokenizer : ITokenizer
{
    private readonly Rune[] _chars;
    private readonly Dictionary<Rune, int> _ids;
    private readonly Dictionary<string, int> _special;
    private readonly string[] _specialText;
    private readonly SpecialTokenSplitter _splitter;

    /// <param name="characters">The vocabulary in id order; repeats are an error.</param>
    public CharTokenizer(IEnumerable<Rune> characters, IEnumerable<string>? specialTokens = null)
    {
        _chars = characters.ToArray();
        _ids = new Dictionary<Rune, int>(_chars.Length);
        for (int i = 0; i < _chars.Length; i++)
        {
            if (!_ids.TryAdd(_chars[i], i))
                throw new TokenizerException($"character {Describe(_chars[i])} appears twice in the vocabulary");
        }
        _special = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string token in specialTokens ?? [])
        {
            if (token.Length == 0) throw new TokenizerException("a special token cannot be empty");
            _special.TryAdd(token, _chars.Length + _special.Count);
        }
        _specialText = _special.OrderBy(kv => kv.Value).Select(kv => kv.Key).ToArray();
        _splitter = new SpecialTokenSplitter(_special.Keys);
    }

    /// <summary>The vocabulary of <paramref name="trainingText"/>: its distinct code points in code point order.</summary>
    public static CharTokenizer FromText(string trainingText, IEnumerable<string>? specialTokens = null)
    {
        var distinct = new SortedSet<Rune>();
        foreach (Rune r in trainingText.EnumerateRunes()) distinct.Add(r);
        return new CharTokenizer(distinct, specialTokens);
    }

    public string Kind => "char";

    public int VocabSize => _chars.Length + _special.Count;

    public IReadOnlyDictionary<string, int> SpecialTokens => _special;

    public int[] Encode(string text)
    {
        var ids = new List<int>(text.Length);
        int offset = 0;
        _splitter.Split(text,
            chunk =>
            {
                int position = offset;
                foreach (Rune r in chunk.EnumerateRunes())
                {
                    if (!_ids.TryGetValue(r, out int id))
                        throw new TokenizerException($"character {Describe(r)} at position {position} is not in the vocabulary");
                    ids.Add(id);
                    position += r.Utf16SequenceLength;
                }
                offset += chunk.Length;
            },
            special =>
            {
                ids.Add(_special[special]);
                offset += special.Length;
            });
        return ids.ToArray();
    }

    public string Decode(ReadOnlySpan<int> ids)
    {
        var sb = new StringBuilder(ids.Length);
        foreach (int id in ids)
        {
            if ((uint)id < (uint)_chars.Length) sb.Append(_chars[id].ToString());
            else if (id >= _chars.Length && id < VocabSize) sb.Append(_specialText[id - _chars.Length]);
            else throw new TokenizerException($"token id {id} is not in the vocabulary (size {VocabSize})");
        }
        return sb.ToString();
    }

    public string ToJson()
    {
        // Code points as numbers: a JSON string would be re-escaped and is harder to check by eye
        // for invisible characters.
        return JsonSerializer.Serialize(new
        {
            kind = Kind,
            chars = _chars.Select(r => r.Value).ToArray(),
            special = _specialText,
        });
    }

    internal static CharTokenizer FromJson(JsonElement root)
    {
        const string source = "tokenizer JSON";
        if (!root.TryGetProperty("chars", out var chars) || chars.ValueKind != JsonValueKind.Array)
            throw new TokenizerException($"{source}: a char tokenizer needs a \"chars\" array of code points");
        var runes = new List<Rune>();
        int index = 0;
        foreach (var item in chars.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out int value) || !Rune.IsValid(value))
                throw new TokenizerException($"{source}: chars[{index}] is not a Unicode code point");
            runes.Add(new Rune(value));
            index++;
        }
        var specials = new List<string>();
        if (root.TryGetProperty("special", out var special))
        {
            foreach (var item in special.EnumerateArray())
                specials.Add(item.GetString() ?? throw new TokenizerException($"{source}: special tokens must be strings"));
        }
        return new CharTokenizer(runes, specials);
    }

    private static string Describe(Rune r) => $"'{r}' (U+{r.Value:X4})";
}

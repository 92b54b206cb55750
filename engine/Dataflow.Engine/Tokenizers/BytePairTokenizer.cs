using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Encodings.Web;

namespace Dataflow.Engine.Tokenizers;

/// <summary>
/// GPT-2 style byte-level BPE: text is cut at special tokens, then into GPT-2 pre-tokens; each
/// pre-token's UTF-8 bytes start as one symbol per byte and the learned merges are applied
/// lowest rank first. Because every byte has a symbol, any text encodes and decodes back exactly.
/// </summary>
public sealed class BytePairTokenizer : ITokenizer
{
    // Pre-tokens repeat heavily in natural text; past this many distinct ones the cache is dropped
    // rather than grown without bound.
    private const int CacheLimit = 100_000;

    private readonly Dictionary<string, int> _vocab;
    private readonly List<(string Left, string Right)> _merges;
    private readonly Dictionary<long, (int Rank, int Result)> _mergeTable;
    private readonly int[] _byteToId = new int[256];
    private readonly byte[]?[] _idToBytes;
    private readonly Dictionary<string, int> _special;
    private readonly SpecialTokenSplitter _splitter;
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);

    private BytePairTokenizer(Dictionary<string, int> vocab, List<(string Left, string Right)> merges,
        Dictionary<long, (int, int)> mergeTable, Dictionary<string, int> special)
    {
        _vocab = vocab;
        _merges = merges;
        _mergeTable = mergeTable;
        _special = special;
        _splitter = new SpecialTokenSplitter(special.Keys);
        int size = vocab.Values.Max() + 1;
        _idToBytes = new byte[size][];
        foreach (var (token, id) in vocab)
            _idToBytes[id] = special.ContainsKey(token) ? Encoding.UTF8.GetBytes(token) : SymbolsToBytes(token);
        for (int b = 0; b < 256; b++) _byteToId[b] = vocab[ByteLevelAlphabet.ByteToChar((byte)b).ToString()];
    }

    public string Kind => "bpe";

    public int VocabSize => _idToBytes.Length;

    public IReadOnlyDictionary<string, int> SpecialTokens => _special;

    /// <summary>Token string (in byte-symbol form) → id, special tokens included, as in vocab.json.</summary>
    public IReadOnlyDictionary<string, int> Vocabulary => _vocab;

    /// <summary>The merges in rank order, as the two token strings they join.</summary>
    public IReadOnlyList<(string Left, string Right)> Merges => _merges;

    public int[] Encode(string text)
    {
        var ids = new List<int>(text.Length / 3 + 4);
        _splitter.Split(text,
            chunk => Gpt2PreTokenizer.Split(chunk.AsSpan(), piece => ids.AddRange(EncodePiece(piece))),
            special => ids.Add(_special[special]));
        return ids.ToArray();
    }

    public string Decode(ReadOnlySpan<int> ids)
    {
        var bytes = new List<byte>(ids.Length * 4);
        foreach (int id in ids)
        {
            byte[]? tokenBytes = (uint)id < (uint)_idToBytes.Length ? _idToBytes[id] : null;
            if (tokenBytes is null)
                throw new TokenizerException($"token id {id} is not in the vocabulary (size {VocabSize})");
            bytes.AddRange(tokenBytes);
        }
        return Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes));
    }

    public string ToJson()
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("kind", Kind);
            w.WritePropertyName("vocab");
            WriteVocab(w);
            w.WriteStartArray("merges");
            foreach (var (left, right) in _merges) w.WriteStringValue($"{left} {right}");
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>Writes GPT-2's vocab.json and merges.txt into <paramref name="directory"/> (created if missing).</summary>
    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        using (var stream = File.Create(Path.Combine(directory, "vocab.json")))
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = true }))
            WriteVocab(w);
        var merges = new StringBuilder(MergesFileReader.VersionHeader).Append('\n');
        foreach (var (left, right) in _merges) merges.Append(left).Append(' ').Append(right).Append('\n');
        File.WriteAllText(Path.Combine(directory, "merges.txt"), merges.ToString(), new UTF8Encoding(false));
    }

    /// <summary>Reads GPT-2's vocab.json and merges.txt; problems name the file and line.</summary>
    public static BytePairTokenizer Load(string vocabPath, string mergesPath)
    {
        byte[] vocabBytes = ReadFile(vocabPath);
        string mergesText = Encoding.UTF8.GetString(ReadFile(mergesPath));
        var vocab = VocabJsonReader.Read(vocabBytes, vocabPath);
        var merges = MergesFileReader.Read(mergesText, mergesPath);
        return Build(vocab, merges.Select(m => (m.Left, m.Right)).ToList(), i => $"{mergesPath}:{merges[i].Line}", vocabPath);
    }

    /// <summary>Reads the object written by <see cref="ToJson"/>.</summary>
    internal static BytePairTokenizer FromJson(JsonElement root)
    {
        const string source = "tokenizer JSON";
        if (!root.TryGetProperty("vocab", out var vocabElement) || vocabElement.ValueKind != JsonValueKind.Object)
            throw new TokenizerException($"{source}: a bpe tokenizer needs a \"vocab\" object");
        if (!root.TryGetProperty("merges", out var mergesElement) || mergesElement.ValueKind != JsonValueKind.Array)
            throw new TokenizerException($"{source}: a bpe tokenizer needs a \"merges\" array");
        var vocab = VocabJsonReader.Read(vocabElement.GetRawText(), $"{source} (vocab)");
        var merges = new List<(string, string)>();
        int index = 0;
        foreach (var item in mergesElement.EnumerateArray())
        {
            string location = $"{source}: merges[{index++}]";
            if (item.ValueKind != JsonValueKind.String)
                throw new TokenizerException($"{location}: expected a string");
            merges.Add(MergesFileReader.ParseLine(item.GetString()!, location));
        }
        return Build(vocab, merges, i => $"{source}: merges[{i}]", $"{source} (vocab)");
    }

    /// <summary>
    /// Checks a vocabulary and merge list against each other and builds the tokenizer. A vocab
    /// entry that is neither a byte symbol nor the result of a merge can never be produced by
    /// merging, so it is taken as a special token (that is how GPT-2's "&lt;|endoftext|&gt;" is stored);
    /// default special tokens the vocabulary lacks get the next free ids.
    /// </summary>
    /// <param name="mergeLocation">Names merge i in errors (file and line).</param>
    /// <param name="vocabSource">Names the vocabulary in errors.</param>
    internal static BytePairTokenizer Build(Dictionary<string, int> vocab, List<(string Left, string Right)> merges,
        Func<int, string> mergeLocation, string vocabSource)
    {
        for (int b = 0; b < 256; b++)
        {
            string symbol = ByteLevelAlphabet.ByteToChar((byte)b).ToString();
            if (!vocab.ContainsKey(symbol))
                throw new TokenizerException($"{vocabSource}: byte 0x{b:X2} has no token (expected {VocabJsonReader.Quote(symbol)}); a byte-level vocabulary needs all 256");
        }
        var mergeTable = new Dictionary<long, (int, int)>(merges.Count);
        var produced = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < merges.Count; i++)
        {
            var (left, right) = merges[i];
            if (!vocab.TryGetValue(left, out int a))
                throw new TokenizerException($"{mergeLocation(i)}: token {VocabJsonReader.Quote(left)} is not in the vocabulary");
            if (!vocab.TryGetValue(right, out int b))
                throw new TokenizerException($"{mergeLocation(i)}: token {VocabJsonReader.Quote(right)} is not in the vocabulary");
            string joined = left + right;
            if (!vocab.TryGetValue(joined, out int result))
                throw new TokenizerException($"{mergeLocation(i)}: merged token {VocabJsonReader.Quote(joined)} is not in the vocabulary");
            if (!mergeTable.TryAdd(PairKey(a, b), (i, result)))
                throw new TokenizerException($"{mergeLocation(i)}: merge {VocabJsonReader.Quote(left + " " + right)} is listed twice");
            produced.Add(joined);
        }
        var special = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (token, id) in vocab)
            if (!produced.Contains(token) && !IsByteSymbol(token))
                special[token] = id;
        int next = vocab.Values.Max() + 1;
        foreach (string token in SpecialTokenNames.Defaults)
        {
            if (vocab.ContainsKey(token)) continue;
            vocab[token] = next;
            special[token] = next++;
        }
        return new BytePairTokenizer(vocab, merges, mergeTable, special);
    }

    internal static long PairKey(int left, int right) => ((long)left << 32) | (uint)right;

    private int[] EncodePiece(ReadOnlySpan<char> piece)
    {
        var lookup = _cache.GetAlternateLookup<ReadOnlySpan<char>>();
        if (lookup.TryGetValue(piece, out int[]? cached)) return cached;
        int[] ids = ApplyMerges(piece);
        if (_cache.Count >= CacheLimit) _cache.Clear();
        lookup.TryAdd(piece, ids);
        return ids;
    }

    // GPT-2's bpe(): repeatedly find the adjacent pair with the lowest merge rank and join every
    // occurrence of it, until no adjacent pair has a merge.
    private int[] ApplyMerges(ReadOnlySpan<char> piece)
    {
        int byteCount = Encoding.UTF8.GetByteCount(piece);
        Span<byte> bytes = byteCount <= 512 ? stackalloc byte[byteCount] : new byte[byteCount];
        Encoding.UTF8.GetBytes(piece, bytes);
        var symbols = new int[byteCount];
        for (int i = 0; i < byteCount; i++) symbols[i] = _byteToId[bytes[i]];
        int n = byteCount;
        while (n > 1)
        {
            int bestRank = int.MaxValue, bestLeft = 0, bestRight = 0, bestResult = 0;
            for (int i = 0; i + 1 < n; i++)
            {
                if (_mergeTable.TryGetValue(PairKey(symbols[i], symbols[i + 1]), out var merge) && merge.Rank < bestRank)
                    (bestRank, bestLeft, bestRight, bestResult) = (merge.Rank, symbols[i], symbols[i + 1], merge.Result);
            }
            if (bestRank == int.MaxValue) break;
            int write = 0;
            for (int read = 0; read < n; write++)
            {
                if (read + 1 < n && symbols[read] == bestLeft && symbols[read + 1] == bestRight)
                {
                    symbols[write] = bestResult;
                    read += 2;
                }
                else symbols[write] = symbols[read++];
            }
            n = write;
        }
        return n == symbols.Length ? symbols : symbols[..n];
    }

    private void WriteVocab(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        foreach (var (token, id) in _vocab.OrderBy(kv => kv.Value)) w.WriteNumber(token, id);
        w.WriteEndObject();
    }

    private static bool IsByteSymbol(string token) => token.Length == 1 && ByteLevelAlphabet.TryCharToByte(token[0], out _);

    private static byte[] SymbolsToBytes(string token)
    {
        var bytes = new byte[token.Length];
        for (int i = 0; i < token.Length; i++)
        {
            // Tokens outside the byte alphabet are only reachable as special tokens, handled by the caller;
            // anything else is decoded as its UTF-8 text so that Decode never throws on a valid id.
            if (!ByteLevelAlphabet.TryCharToByte(token[i], out bytes[i])) return Encoding.UTF8.GetBytes(token);
        }
        return bytes;
    }

    private static byte[] ReadFile(string path)
    {
        try { return File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TokenizerException($"{path}: cannot read: {e.Message}", e);
        }
    }
}

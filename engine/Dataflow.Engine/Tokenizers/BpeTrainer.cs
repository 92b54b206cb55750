using System.Text;

namespace Dataflow.Engine.Tokenizers;

/// <summary>
/// Learns a byte-level BPE vocabulary: start from the 256 byte symbols and repeatedly merge the
/// most frequent adjacent pair. Pairs are counted over distinct pre-tokens weighted by how often
/// each occurs; after a merge only the pre-tokens that contained the merged pair are recounted,
/// and a max-heap with lazy deletion finds the next pair, so a merge costs what it touches.
/// </summary>
public static class BpeTrainer
{
    /// <summary>
    /// The largest vocabulary trained: 2^24 ids, 80 times o200k's. Beyond that a request is a
    /// mistake, and its tables would not fit in memory anyway.
    /// </summary>
    public const int MaxVocabSize = 1 << 24;

    /// <summary>
    /// Trains on <paramref name="text"/> until the vocabulary has <paramref name="vocabSize"/> ids:
    /// 256 byte tokens (id = byte value), then one id per merge, then the special tokens (the
    /// defaults and <paramref name="specialTokens"/>) last. Ties between equally frequent pairs go
    /// to the pair with the smaller left id, then the smaller right id, so training is deterministic.
    /// If the text runs out of pairs first, the vocabulary is smaller than asked.
    /// </summary>
    /// <param name="progress">Called as (merges done, merges wanted) after each merge.</param>
    public static BytePairTokenizer Train(string text, int vocabSize, IEnumerable<string>? specialTokens = null,
        Action<int, int>? progress = null)
    {
        if (vocabSize > MaxVocabSize)
            throw new TokenizerException($"vocab size {vocabSize} is too large: at most {MaxVocabSize} ids are trained (o200k has 200,019)");
        if (text.Length == 0)
            throw new TokenizerException("the training text is empty: there are no pairs to learn merges from");
        var specials = SpecialTokenNames.Defaults.Concat(specialTokens ?? []).Distinct(StringComparer.Ordinal).ToList();
        int mergesWanted = vocabSize - 256 - specials.Count;
        if (mergesWanted < 0)
            throw new TokenizerException($"vocab size {vocabSize} is too small: 256 byte tokens and {specials.Count} special tokens need at least {256 + specials.Count}");

        var words = CountPreTokens(text, specials);
        // A text of n bytes allows fewer than n merges, so that bounds what is reserved.
        int mergesPossible = (int)Math.Min(mergesWanted, Encoding.UTF8.GetByteCount(text));
        var tokenText = new List<string>(256 + mergesPossible);
        for (int b = 0; b < 256; b++) tokenText.Add(ByteLevelAlphabet.ByteToChar((byte)b).ToString());
        var merges = new List<(string Left, string Right)>(mergesPossible);

        var state = new PairCounts(words);
        while (merges.Count < mergesWanted && state.TryTakeBest(out int left, out int right))
        {
            int merged = tokenText.Count;
            tokenText.Add(tokenText[left] + tokenText[right]);
            merges.Add((tokenText[left], tokenText[right]));
            state.Merge(left, right, merged);
            progress?.Invoke(merges.Count, mergesWanted);
        }

        var vocab = new Dictionary<string, int>(tokenText.Count + specials.Count, StringComparer.Ordinal);
        for (int id = 0; id < tokenText.Count; id++) vocab.Add(tokenText[id], id);
        foreach (string special in specials)
        {
            if (!vocab.TryAdd(special, vocab.Count))
                throw new TokenizerException($"special token {VocabJsonReader.Quote(special)} collides with a learned token");
        }
        return BytePairTokenizer.Build(vocab, merges, i => $"trained merge {i}", "trained vocabulary");
    }

    /// <summary>Distinct pre-tokens of the text (as byte ids) with their counts; special tokens are cut out first.</summary>
    private static List<Word> CountPreTokens(string text, List<string> specials)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var lookup = counts.GetAlternateLookup<ReadOnlySpan<char>>();
        new SpecialTokenSplitter(specials).Split(text,
            chunk => Gpt2PreTokenizer.Split(chunk.AsSpan(), piece =>
            {
                lookup.TryGetValue(piece, out int c);
                lookup[piece] = c + 1;
            }),
            _ => { });
        var words = new List<Word>(counts.Count);
        // Ordinal order makes the word list, and so the whole run, independent of hashing.
        foreach (var (piece, count) in counts.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            byte[] bytes = Encoding.UTF8.GetBytes(piece);
            words.Add(new Word(Array.ConvertAll(bytes, b => (int)b), count));
        }
        return words;
    }

    private sealed class Word(int[] symbols, long count)
    {
        public int[] Symbols = symbols;
        public int Length = symbols.Length;
        public readonly long Count = count;
    }

    /// <summary>Pair frequencies, which words hold each pair, and a heap to find the most frequent.</summary>
    private sealed class PairCounts
    {
        private readonly List<Word> _words;
        private readonly Dictionary<long, long> _count = new();
        // May list words that no longer hold the pair; Merge rechecks, so stale entries only cost a scan.
        private readonly Dictionary<long, List<int>> _where = new();
        private readonly PriorityQueue<long, (long NegCount, long Key)> _heap = new();
        private readonly HashSet<long> _touched = new();

        public PairCounts(List<Word> words)
        {
            _words = words;
            for (int w = 0; w < words.Count; w++) AddPairs(w, +1);
            foreach (var (key, count) in _count) _heap.Enqueue(key, (-count, key));
            _touched.Clear();
        }

        public bool TryTakeBest(out int left, out int right)
        {
            // Heap entries go stale when a count changes; the current one was pushed afresh, so skip the rest.
            while (_heap.TryDequeue(out long key, out var priority))
            {
                if (_count.TryGetValue(key, out long count) && count > 0 && count == -priority.NegCount)
                {
                    left = (int)(key >> 32);
                    right = (int)(uint)key;
                    return true;
                }
            }
            left = right = 0;
            return false;
        }

        public void Merge(int left, int right, int merged)
        {
            long key = BytePairTokenizer.PairKey(left, right);
            var holders = _where[key];
            _where.Remove(key);
            int lastWord = -1;
            foreach (int w in holders)
            {
                if (w == lastWord) continue; // cheap skip of repeats; Contains below catches the rest
                lastWord = w;
                if (!Contains(_words[w], left, right)) continue;
                AddPairs(w, -1);
                Replace(_words[w], left, right, merged);
                AddPairs(w, +1);
            }
            _count.Remove(key);
            foreach (long changed in _touched)
            {
                if (_count.TryGetValue(changed, out long count) && count > 0) _heap.Enqueue(changed, (-count, changed));
            }
            _touched.Clear();
        }

        private void AddPairs(int w, int sign)
        {
            Word word = _words[w];
            for (int i = 0; i + 1 < word.Length; i++)
            {
                long key = BytePairTokenizer.PairKey(word.Symbols[i], word.Symbols[i + 1]);
                _count[key] = _count.GetValueOrDefault(key) + sign * word.Count;
                _touched.Add(key);
                if (sign > 0)
                {
                    if (!_where.TryGetValue(key, out var list)) _where[key] = list = new List<int>();
                    if (list.Count == 0 || list[^1] != w) list.Add(w);
                }
            }
        }

        private static bool Contains(Word word, int left, int right)
        {
            for (int i = 0; i + 1 < word.Length; i++)
                if (word.Symbols[i] == left && word.Symbols[i + 1] == right) return true;
            return false;
        }

        // Left to right and non-overlapping, exactly as BytePairTokenizer applies a merge when encoding.
        private static void Replace(Word word, int left, int right, int merged)
        {
            int write = 0;
            for (int read = 0; read < word.Length; write++)
            {
                if (read + 1 < word.Length && word.Symbols[read] == left && word.Symbols[read + 1] == right)
                {
                    word.Symbols[write] = merged;
                    read += 2;
                }
                else word.Symbols[write] = word.Symbols[read++];
            }
            word.Length = write;
        }
    }
}

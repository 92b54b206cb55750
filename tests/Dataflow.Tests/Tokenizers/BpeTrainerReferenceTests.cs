using System.Text;
using Dataflow.Engine.Tokenizers;

namespace Dataflow.Tests.Tokenizers;

/// <summary>
/// The trainer updates pair counts incrementally; this pins it to the textbook algorithm that
/// recounts every pair before each merge, on text where many pairs tie and counts shift a lot.
/// </summary>
public class BpeTrainerReferenceTests
{
    [Theory]
    [InlineData(1, 400)]
    [InlineData(2, 450)]
    public void MatchesFullRecountTraining(int seed, int vocabSize)
    {
        string text = TokenizerTestText.Corpus(8_000, seed) + " aaaaaaa aaaa aa a abababab";
        var trained = BpeTrainer.Train(text, vocabSize);
        var expected = ReferenceMerges(text, vocabSize - 256 - SpecialTokenNames.Defaults.Count);
        Assert.Equal(expected, trained.Merges);
    }

    private static List<(string, string)> ReferenceMerges(string text, int mergeCount)
    {
        var tokens = Enumerable.Range(0, 256).Select(b => ByteLevelAlphabet.ByteToChar((byte)b).ToString()).ToList();
        var words = Gpt2PreTokenizer.Split(text).GroupBy(w => w)
            .Select(g => (Symbols: Encoding.UTF8.GetBytes(g.Key).Select(b => (int)b).ToList(), Count: g.Count())).ToList();
        var merges = new List<(string, string)>();
        while (merges.Count < mergeCount)
        {
            var counts = new Dictionary<(int, int), long>();
            foreach (var (symbols, count) in words)
                for (int i = 0; i + 1 < symbols.Count; i++)
                    counts[(symbols[i], symbols[i + 1])] = counts.GetValueOrDefault((symbols[i], symbols[i + 1])) + count;
            if (counts.Count == 0) break;
            var best = counts.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key.Item1).ThenBy(kv => kv.Key.Item2).First().Key;
            int merged = tokens.Count;
            tokens.Add(tokens[best.Item1] + tokens[best.Item2]);
            merges.Add((tokens[best.Item1], tokens[best.Item2]));
            foreach (var (symbols, _) in words)
                for (int i = 0; i + 1 < symbols.Count; i++)
                    if (symbols[i] == best.Item1 && symbols[i + 1] == best.Item2)
                    {
                        symbols[i] = merged;
                        symbols.RemoveAt(i + 1);
                    }
        }
        return merges;
    }
}

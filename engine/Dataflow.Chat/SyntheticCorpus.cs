using System.Text;
using Dataflow.Chat.Tasks;
using Dataflow.Engine.Tokenizers;

namespace Dataflow.Chat;

/// <summary>
/// The base corpus the small model pre-trains on before SFT (<c>train --text synthetic</c>): the task
/// generators' training problems written as plain prose, one per line, plus any text the user adds.
/// Its tokenizer is a character vocabulary of printable ASCII and the corpus's own characters, with
/// the chat markers after it, so SFT and chat find every token they need in the base model.
/// </summary>
public static class SyntheticCorpus
{
    /// <summary>What <c>--text</c> says to get this corpus.</summary>
    public const string Name = "synthetic";

    /// <summary>About as many characters as a 1–10M-parameter model sees in a few thousand steps.</summary>
    public const int DefaultCharacters = 1_000_000;

    public static string Generate(Func<WordList> words, int seed, int characters = DefaultCharacters, string? extraText = null)
    {
        var mixture = TaskMixture.Synthetic(words);
        var random = new Random(seed);
        var text = new StringBuilder(characters + 1024);
        if (extraText is not null) text.Append(extraText).Append('\n');
        while (text.Length < characters)
        {
            var problem = mixture.Next(random, DataSplit.Train);
            text.Append(mixture.Tasks.First(t => t.Name == problem.Task).Prose(problem)).Append('\n');
        }
        return text.ToString();
    }

    /// <summary>
    /// "char": printable ASCII, newline and the text's own characters; any other spec as
    /// <see cref="TokenizerFactory.Create"/> reads it; either with the chat markers added.
    /// </summary>
    public static ITokenizer Tokenizer(string spec, string text)
    {
        if (spec.EndsWith("+chat", StringComparison.Ordinal)) spec = spec[..^"+chat".Length];
        ITokenizer baseTokenizer = spec == "char"
            ? CharTokenizer.FromText(text + "\n" + new string([.. Enumerable.Range(32, 95).Select(c => (char)c)]))
            : TokenizerFactory.Create(spec, text);
        return ChatTokens.AddTo(baseTokenizer);
    }
}

using Dataflow.Engine.Data;

namespace Dataflow.Chat.Tasks;

/// <summary>The word list is not installed: the environment is wrong (exit 2), not the input.</summary>
public sealed class WordListUnavailableException(string message) : Exception(message);

/// <summary>
/// The words of the spelling tasks: lower-case a–z words of 3 to 10 letters, split once into train
/// and test words (<see cref="HeldOut"/>), so a test word never appears in any training text.
/// </summary>
public sealed class WordList
{
    /// <summary>Debian's wamerican, which tools/setup installs.</summary>
    public const string DefaultPath = "/usr/share/dict/american-english";

    public WordList(IEnumerable<string> words)
    {
        var usable = words.Select(w => w.Trim()).Where(IsUsable).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        Train = usable.Where(w => HeldOut.SplitOf("word:" + w) == DataSplit.Train).ToArray();
        Test = usable.Where(w => HeldOut.SplitOf("word:" + w) == DataSplit.Test).ToArray();
        if (Train.Count == 0 || Test.Count == 0)
            throw new DataException($"the word list has {usable.Count} usable words (a-z, 3 to 10 letters); too few to split into train and test words");
    }

    public IReadOnlyList<string> Train { get; }
    public IReadOnlyList<string> Test { get; }

    public IReadOnlyList<string> Of(DataSplit split) => split == DataSplit.Train ? Train : Test;

    public static bool IsUsable(string word) => word.Length is >= 3 and <= 10 && word.All(char.IsAsciiLetterLower);

    /// <summary>Where the words are read from: $DATAFLOW_WORD_LIST if set (tests give a small list), else <see cref="DefaultPath"/>.</summary>
    public static string PathInUse => Environment.GetEnvironmentVariable("DATAFLOW_WORD_LIST") is { Length: > 0 } path ? path : DefaultPath;

    public static WordList Load(string? path = null)
    {
        path ??= PathInUse;
        if (!File.Exists(path))
            throw new WordListUnavailableException($"the word list {path} is missing: run tools/setup (it installs Debian's wamerican)");
        return new WordList(File.ReadLines(path));
    }
}

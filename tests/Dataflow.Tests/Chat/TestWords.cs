using Dataflow.Chat.Tasks;

namespace Dataflow.Tests.Chat;

/// <summary>A generated word list for the spelling tasks, so no test needs /usr/share/dict.</summary>
internal static class TestWords
{
    /// <summary>About a thousand made-up words of 3 to 9 letters (consonant–vowel–consonant syllables).</summary>
    public static IReadOnlyList<string> All { get; } = Make();

    public static WordList List() => new(All);

    /// <summary>The words written one per line to <paramref name="path"/>, for the runner's $DATAFLOW_WORD_LIST.</summary>
    public static string WriteTo(string path)
    {
        File.WriteAllLines(path, All);
        return path;
    }

    private static List<string> Make()
    {
        var words = new List<string>();
        foreach (char c in "bcdfglmnprst")
            foreach (char v in "aeiou")
                foreach (char e in "dgkmnprt")
                {
                    string syllable = $"{c}{v}{e}";
                    words.Add(syllable);
                    if ((c + v + e) % 3 == 0) words.Add(syllable + "er");
                    if ((c * v + e) % 4 == 0) words.Add(syllable + "ab" + v + "ly");
                }
        return words;
    }
}

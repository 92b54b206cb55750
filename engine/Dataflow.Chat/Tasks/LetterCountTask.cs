using System.Globalization;
using System.Text;

namespace Dataflow.Chat.Tasks;

/// <summary>
/// Letter counting over Debian's words, nanochat's "spelling bee": the assistant spells the word with
/// a running count after each match, then answers: <c>str1awber2r3y=3</c> for the r's of strawberry,
/// so a small model counts by looking, one letter at a time (words have no digits, so it reads
/// unambiguously). Test words never appear in training (<see cref="WordList"/>).
/// </summary>
public sealed class LetterCountTask(WordList words) : IChatTask
{
    private static readonly string[] Templates = ["How many {0} in {1}?", "Count the {0} in {1}."];

    public string Name => "spelling";
    public string Description => "counting a letter in a word the model never trained on (it spells the word first)";

    public ChatProblem Make(Random random, DataSplit split)
    {
        var list = words.Of(split);
        string word = list[random.Next(list.Count)];
        // Mostly a letter of the word; sometimes any letter, so "0" is an answer too.
        char letter = random.Next(4) == 0 ? (char)('a' + random.Next(26)) : word[random.Next(word.Length)];
        var (spelled, count) = Spell(word, letter);
        string question = string.Format(CultureInfo.InvariantCulture, Templates[random.Next(Templates.Length)], letter, word);
        string answer = count.ToString(CultureInfo.InvariantCulture);
        return new ChatProblem(Name, [ChatMessage.User(question)], [ChatMessage.Assistant($"{spelled}={answer}")], answer);
    }

    /// <summary>The word's letters, each match followed by its running count.</summary>
    public static (string Spelled, int Count) Spell(string word, char letter)
    {
        var text = new StringBuilder();
        int count = 0;
        foreach (char c in word)
        {
            text.Append(c);
            if (c == letter) text.Append(++count);
        }
        return (text.ToString(), count);
    }

    public bool IsCorrect(ChatProblem problem, string reply) => ChatReply.LastInteger(reply) == problem.Expected;

    public string Prose(ChatProblem problem) => $"{problem.Prompt[^1].Content} {problem.Reply[^1].Content}.";
}

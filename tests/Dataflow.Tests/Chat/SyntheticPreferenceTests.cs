using System.Text.RegularExpressions;
using Dataflow.Chat;
using Dataflow.Chat.Preferences;
using Dataflow.Chat.Tasks;
using Dataflow.Engine;
using Dataflow.Engine.Tokenizers;
using Dataflow.Reinforcement;

namespace Dataflow.Tests.Chat;

/// <summary>Preference pairs made from the chat tasks: seeded, split as the tasks split, chosen right and rejected plausibly wrong, and written as the reader's JSONL.</summary>
public sealed class SyntheticPreferenceTests
{
    private static IChatTask Task(string name) => ChatTasks.Create(name, TestWords.List);

    public static TheoryData<string> Names => [.. SyntheticPreferences.TaskNames];

    [Theory]
    [MemberData(nameof(Names))]
    public void The_chosen_reply_is_the_tasks_and_right_the_rejected_one_wrong(string name)
    {
        var task = Task(name);
        foreach (var split in new[] { DataSplit.Train, DataSplit.Test })
        {
            var pairs = SyntheticPreferences.Make([task], split, 200, seed: 3);
            for (int i = 0; i < pairs.Count; i++)
            {
                        var (_, problem) = SyntheticPreferences.ProblemAt([task], split, 3, i);
                Assert.Equal(problem.Prompt[0].Content, pairs[i].Prompt);
                Assert.Equal(problem.Reply[0].Content, pairs[i].Chosen);
                Assert.True(task.IsCorrect(problem, pairs[i].Chosen));
                Assert.False(task.IsCorrect(problem, pairs[i].Rejected), $"{name}: '{pairs[i].Rejected}' should be wrong for '{pairs[i].Prompt}'");
                if (name.StartsWith("arithmetic", StringComparison.Ordinal))    // column working: one step wrong, the same columns
                    Assert.Equal(pairs[i].Chosen.Split(", ").Length, pairs[i].Rejected.Split(", ").Length);
                else if (name != "greetings")    // a plausible mistake: everything before the answer is the task's own text
                    Assert.StartsWith(pairs[i].Chosen[..pairs[i].Chosen.LastIndexOf(problem.Expected, StringComparison.Ordinal)], pairs[i].Rejected);
            }
        }
    }

    [Fact]
    public void Pairs_are_the_same_for_the_same_seed_and_differ_for_another()
    {
        IChatTask[] tasks = [.. SyntheticPreferences.TaskNames.Select(Task)];
        var first = SyntheticPreferences.Make(tasks, DataSplit.Train, 100, seed: 7);
        Assert.Equal(first, SyntheticPreferences.Make(tasks, DataSplit.Train, 100, seed: 7));
        Assert.NotEqual(first, SyntheticPreferences.Make(tasks, DataSplit.Train, 100, seed: 8));
        // Round robin over the tasks: pair 0 is arithmetic's, pair 3 a list's.
        Assert.Matches(@"^(\d+[+-][\d+-]+=\d+, )+so \d+$", first[0].Chosen);     // the column working, the answer last
        Assert.Matches(@"^(\d+ )+\d+$", first[3].Chosen);
    }

    /// <summary>Held-out pairs come from problems no training pair has (the task's key: the sum, the word, the list and operation).</summary>
    [Theory]
    [InlineData("arithmetic")]
    [InlineData("arithmetic-hard")]
    [InlineData("spelling")]
    [InlineData("lists")]
    public void Training_and_held_out_pairs_share_no_problem(string name)
    {
        string Key(PreferencePair pair) => name switch
        {
            "spelling" => Regex.Match(pair.Prompt, @"(\w+)[.?]$").Groups[1].Value,                    // the word: the split is by word
            "lists" => Regex.Replace(pair.Prompt, "^(Sort|Reverse)( the list)? ", "$1 "),             // the operation and the list
            _ => pair.Chosen,                                                                        // "a + b = c"
        };
        var task = Task(name);
        var train = SyntheticPreferences.Make([task], DataSplit.Train, 2000, seed: 1).Select(Key).ToHashSet();
        var test = SyntheticPreferences.Make([task], DataSplit.Test, 300, seed: 1).Select(Key).ToHashSet();
        Assert.True(test.Count > 50, $"only {test.Count} distinct held-out problems");
        Assert.Empty(train.Intersect(test));
    }

    [Fact]
    public void A_wrong_answer_is_a_near_miss_of_the_right_one()
    {
        var random = new Random(1);
        for (int i = 0; i < 300; i++)
        {
            var number = WrongAnswer.Corrupt("12 + 35 = 47", "47", random)!;
            Assert.StartsWith("12 + 35 = ", number);
            long wrong = long.Parse(number["12 + 35 = ".Length..]);
            Assert.NotEqual(47, wrong);
            Assert.InRange(wrong, 0, 99);    // a digit off, a carry (± 10) or one off

            var list = WrongAnswer.Corrupt("3 8 8 20", "3 8 8 20", random)!;
            Assert.NotEqual("3 8 8 20", list);
            Assert.Equal(["3", "8", "8", "20"], list.Split(' ').Order(StringComparer.Ordinal).OrderBy(s => s.Length).ToArray());    // the same items, two neighbours swapped

            Assert.NotEqual("0", WrongAnswer.Corrupt("0", "0", random));
        }
        Assert.Null(WrongAnswer.Corrupt("Hello! I am here.", "Hello! I am here.", random));    // prose: the generator answers rudely instead
        Assert.Null(WrongAnswer.Corrupt("7 7 7", "7 7 7", random));                              // no swap changes it
    }

    [Fact]
    public void A_task_whose_reply_calls_the_tool_makes_no_pairs()
    {
        var error = Assert.Throws<ConfigurationException>(() => SyntheticPreferences.Make([Task("tool-arithmetic")], DataSplit.Train, 1, seed: 1));
        Assert.Contains("tool-arithmetic", error.Message);
    }

    [Fact]
    public void Written_pairs_read_back_as_they_were()
    {
        var pairs = SyntheticPreferences.Make([.. SyntheticPreferences.TaskNames.Select(Task)], DataSplit.Test, 20, seed: 2);
        var path = Path.Combine(Path.GetTempPath(), $"pairs-{Guid.NewGuid():N}.jsonl");
        try
        {
            PreferencePairWriter.Write(path, pairs);
            Assert.Equal(pairs, PreferencePairReader.Read(path));
            Assert.Contains(" + ", File.ReadAllText(path));    // readable: not escaped as \u002B
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void A_pair_is_tokenised_as_the_chat_format_renders_the_exchange()
    {
        var tokens = new ChatTokens(ChatTokens.AddTo(CharTokenizer.FromText("abcdefghijklmnopqrstuvwxyz0123456789 +-=?!.'ABCDEFGHIJKLMNOPQRSTUVWXYZ")));
        var renderer = new ChatRenderer(tokens);
        var pair = new PreferencePair("What is 2 + 2?", "2 + 2 = 4", "2 + 2 = 5");
        var tokenized = ChatPreferenceData.Tokenize(pair, renderer);
        Assert.Equal(renderer.RenderPrompt([ChatMessage.User(pair.Prompt)]), tokenized.Prompt);
        int[] whole = [.. tokenized.Prompt, .. tokenized.Chosen];
        Assert.Equal(renderer.Render([ChatMessage.User(pair.Prompt), ChatMessage.Assistant(pair.Chosen)]).Tokens, whole);
        Assert.Equal(tokens.AssistantEnd, tokenized.Rejected[^1]);
        Assert.Equal(tokens.Tokenizer.Encode("2 + 2 = 5"), tokenized.Rejected[..^1]);
    }
}

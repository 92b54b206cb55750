using Dataflow.Chat;
using Dataflow.Chat.Tasks;
using Dataflow.Engine;

namespace Dataflow.Tests.Chat;

/// <summary>The synthetic tasks: seeded, split so test problems never appear in training, and checked by their answers.</summary>
public class ChatTaskTests
{
    private static IChatTask Task(string name) => ChatTasks.Create(name, TestWords.List);

    public static TheoryData<string> Names => [.. ChatTasks.Names];

    [Theory]
    [MemberData(nameof(Names))]
    public void The_reply_training_gives_is_correct_and_a_wrong_one_is_not(string name)
    {
        var task = Task(name);
        var random = new Random(5);
        for (int i = 0; i < 50; i++)
        {
            var problem = task.Make(random, DataSplit.Test);
            Assert.Equal(name, problem.Task);
            string reply = string.Concat(problem.Reply.Select(m => m.Role switch
            {
                ChatRole.ToolCall => $"<|python_start|>{m.Content}<|python_end|>",
                ChatRole.ToolOutput => $"<|output_start|>{m.Content}<|output_end|>",
                _ => m.Content,
            }));
            Assert.True(task.IsCorrect(problem, reply), $"{name}: '{reply}' should answer '{problem.Prompt[^1].Content}'");
            Assert.False(task.IsCorrect(problem, reply + "9"), $"{name}: '{reply}9' should be wrong");
            Assert.DoesNotContain("<|", task.Prose(problem));
        }
    }

    [Theory]
    [InlineData("arithmetic")]
    [InlineData("arithmetic-hard")]
    [InlineData("subtraction-hard")]
    [InlineData("tool-arithmetic")]
    [InlineData("lists")]
    public void No_test_question_is_ever_drawn_for_training(string name)
    {
        var task = Task(name);
        var test = Enumerable.Range(0, 200).Select(i => Key(task.Make(new Random(i), DataSplit.Test))).ToHashSet();
        var train = Enumerable.Range(0, 2000).Select(i => Key(task.Make(new Random(10_000 + i), DataSplit.Train))).ToHashSet();
        Assert.Empty(test.Intersect(train));
        Assert.True(test.Count > 50, $"only {test.Count} distinct test problems");
    }

    /// <summary>The problem without its wording: the expected answer and the numbers asked about.</summary>
    private static string Key(ChatProblem p) =>
        string.Join(" ", System.Text.RegularExpressions.Regex.Matches(p.Prompt[^1].Content, @"\d+").Select(m => m.Value)) +
        (p.Prompt[^1].Content.StartsWith("Sort", StringComparison.Ordinal) ? " sort" : "") + " -> " + p.Expected;

    [Fact]
    public void Spelling_asks_only_about_words_of_its_split()
    {
        var words = TestWords.List();
        Assert.Empty(words.Train.Intersect(words.Test));
        var task = new LetterCountTask(words);
        for (int i = 0; i < 200; i++)
        {
            var problem = task.Make(new Random(i), DataSplit.Test);
            string word = problem.Prompt[^1].Content.Split(' ')[^1].TrimEnd('?', '.');
            Assert.Contains(word, words.Test);
        }
    }

    [Fact]
    public void Spelling_spells_with_a_running_count()
    {
        Assert.Equal(("str1awber2r3y", 3), LetterCountTask.Spell("strawberry", 'r'));
        Assert.Equal(("cat", 0), LetterCountTask.Spell("cat", 'z'));
    }

    [Fact]
    public void A_task_is_the_same_for_the_same_seed()
    {
        foreach (string name in ChatTasks.Names)
        {
            var (a, b) = (Task(name).Make(new Random(42), DataSplit.Train), Task(name).Make(new Random(42), DataSplit.Train));
            Assert.Equal(a.Conversation, b.Conversation);
        }
    }

    [Fact]
    public void An_unknown_task_is_refused_listing_the_names()
    {
        var e = Assert.Throws<ConfigurationException>(() => Task("poetry"));
        Assert.Contains("arithmetic, arithmetic-hard, subtraction-hard, tool-arithmetic, spelling, lists, greetings", e.Message);
    }

    [Fact]
    public void A_missing_word_list_says_to_run_setup()
    {
        var e = Assert.Throws<WordListUnavailableException>(() => WordList.Load("/nonexistent/words"));
        Assert.Contains("tools/setup", e.Message);
        Assert.Contains("wamerican", e.Message);
    }

    [Fact]
    public void The_reply_checker_reads_the_text_after_the_last_tool_output()
    {
        Assert.Equal("408", ChatReply.FinalText("<|python_start|>12*34<|python_end|><|output_start|>408<|output_end|>408"));
        Assert.Equal("46", ChatReply.LastInteger("2+4=6, 1+3=4, so 46"));
        Assert.Equal("47", ChatReply.LastInteger("14-7=7, 8-1-3=4, so 47"));
        Assert.Null(ChatReply.LastInteger("<|python_start|>12*34<|python_end|><|output_start|>408<|output_end|>"));
    }
}

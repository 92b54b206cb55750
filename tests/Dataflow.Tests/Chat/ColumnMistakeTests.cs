using System.Globalization;
using System.Text.RegularExpressions;
using Dataflow.Chat.Preferences;
using Dataflow.Chat.Tasks;

namespace Dataflow.Tests.Chat;

/// <summary>A wrong column working: one step slips (a fact off by one, a carry or borrow forgotten) and the rest of the working and the answer follow from it.</summary>
public sealed class ColumnMistakeTests
{
    private static HashSet<string> All(string reply) =>
        [.. Enumerable.Range(0, 400).Select(seed => ColumnMistake.Make(reply, new Random(seed))!)];

    [Fact]
    public void Every_mistake_of_a_two_column_sum_is_one_slipped_step_and_its_consequences()
    {
        // 47 + 38: the units 7+8=15 carry one into the tens.
        Assert.Equal(new HashSet<string>
        {
            "7+8=16, 4+3+1=8, so 86", "7+8=14, 4+3+1=8, so 84",     // the units' fact off by one (the carry stays)
            "7+8=15, 4+3+1=9, so 95", "7+8=15, 4+3+1=7, so 75",     // the tens' fact off by one
            "7+8=15, 4+3=7, so 75",                                  // the carry forgotten
        }, All(ColumnArithmetic.Working(47, '+', 38)));
    }

    [Fact]
    public void A_slip_that_changes_a_carry_carries_on_into_the_next_column()
    {
        // 45 + 34: 5+4=9; written 10 it carries, and the tens take the +1.
        Assert.Contains("5+4=10, 4+3+1=8, so 80", All(ColumnArithmetic.Working(45, '+', 34)));
    }

    [Fact]
    public void Every_mistake_of_a_two_column_difference_is_one_slipped_step_and_its_consequences()
    {
        // 84 − 37: the units borrow (14-7), the tens pay it back (8-1-3).
        Assert.Equal(new HashSet<string>
        {
            "14-7=8, 8-1-3=4, so 48", "14-7=6, 8-1-3=4, so 46",
            "14-7=7, 8-1-3=5, so 57", "14-7=7, 8-1-3=3, so 37",
            "14-7=7, 8-3=5, so 57",                                  // the borrow not paid back
        }, All(ColumnArithmetic.Working(84, '-', 37)));
    }

    /// <summary>Over many problems of every column task: the verifier rejects the mistake, and the answer is the one its own working gives.</summary>
    [Theory]
    [InlineData("arithmetic")]
    [InlineData("arithmetic-hard")]
    [InlineData("subtraction-hard")]
    public void The_answer_follows_the_written_working_and_is_wrong(string name)
    {
        var task = ChatTasks.Create(name, TestWords.List);
        var random = new Random(5);
        for (int i = 0; i < 500; i++)
        {
            var problem = task.Make(random, DataSplit.Train);
            string reply = problem.Reply[0].Content, wrong = ColumnMistake.Make(reply, random)!;
            Assert.False(task.IsCorrect(problem, wrong), $"{reply} -> {wrong}");
            Assert.Equal(reply.Split(", ").Length, wrong.Split(", ").Length);
            var results = Regex.Matches(wrong, @"=(\d+)").Select(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToList();
            long place = 1, answer = 0;
            for (int c = 0; c < results.Count; c++, place *= 10) answer += (c == results.Count - 1 ? results[c] : results[c] % 10) * place;
            Assert.EndsWith($", so {answer}", wrong);
        }
    }

    [Theory]
    [InlineData("3 8 8 20")]
    [InlineData("Hello! I am here.")]
    [InlineData("12 + 35 = 47")]
    [InlineData("7+8=15, 4+3=8, so 85")]    // not what the method writes (the carry is missing): left to the other corruptions
    public void A_reply_that_is_not_column_working_has_no_column_mistake(string reply) =>
        Assert.Null(ColumnMistake.Make(reply, new Random(1)));
}

using Dataflow.Engine.Data;
using Dataflow.Engine;
using Dataflow.Training.Tasks;

namespace Dataflow.Tests.Seq2Seq;

public sealed class TransductionTaskTests
{
    private static int[] Digits(int[] tokens) => tokens.Select(t => t - TransductionVocabulary.FirstDigit).ToArray();

    [Theory]
    [InlineData("reverse")]
    [InlineData("sort")]
    public void Targets_are_the_reverse_or_the_sorted_source(string name)
    {
        ITransductionTask task = TransductionTasks.Create(name);
        var random = new SeededRandom(7);
        for (int i = 0; i < 500; i++)
        {
            var (source, target) = task.Sample(random);
            var expected = name == "reverse" ? Digits(source).Reverse().ToArray() : Digits(source).Order().ToArray();
            Assert.Equal(expected, Digits(target));
            Assert.All(source, t => Assert.InRange(t, TransductionVocabulary.FirstDigit, TransductionVocabulary.Size - 1));
        }
    }

    [Fact]
    public void Examples_are_the_documented_ones()
    {
        int[] source = new[] { 0, 3, 1, 4, 1, 5 }.Select(TransductionVocabulary.Digit).ToArray();
        Assert.Equal("514130", TransductionVocabulary.Format(new ReverseTask().Transform(source)));
        Assert.Equal("011345", TransductionVocabulary.Format(new SortTask().Transform(source)));
        Assert.Equal("031415", TransductionVocabulary.Format(source));   // the source is left alone
    }

    [Fact]
    public void Source_lengths_cover_5_to_20_and_nothing_else()
    {
        ITransductionTask task = new SortTask();
        var random = new SeededRandom(3);
        var lengths = Enumerable.Range(0, 3000).Select(_ => task.Sample(random).Source.Length).ToHashSet();
        Assert.Equal(Enumerable.Range(5, 16), lengths.Order());
        Assert.Throws<ArgumentOutOfRangeException>(() => task.Sample(random, 21));
    }

    [Fact]
    public void The_same_seed_gives_the_same_stream_and_another_seed_another()
    {
        ITransductionTask task = new ReverseTask();
        string Stream(ulong seed)
        {
            var random = new SeededRandom(seed);
            return string.Join("|", Enumerable.Range(0, 50).Select(_ => TransductionVocabulary.Format(task.Sample(random).Source)));
        }
        Assert.Equal(Stream(11), Stream(11));
        Assert.NotEqual(Stream(11), Stream(12));
    }

    [Fact]
    public void An_unknown_task_is_a_usage_error_listing_the_known_ones()
    {
        var error = Assert.Throws<ConfigurationException>(() => TransductionTasks.Create("copy"));
        Assert.Contains("reverse, sort", error.Message);
    }
}

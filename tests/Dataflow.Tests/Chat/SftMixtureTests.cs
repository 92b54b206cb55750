using Dataflow.Chat.Sft;
using Dataflow.Chat.Tasks;

namespace Dataflow.Tests.Chat;

/// <summary>LoRA SFT's task weights: the same tasks and total as full SFT's, more lists; full SFT's untouched.</summary>
public class SftMixtureTests
{
    [Fact]
    public void Full_sft_keeps_the_shared_mixture_and_lora_reweights_the_same_tasks()
    {
        Assert.Same(ChatTasks.Mixture, SftMixture.Weights(lora: false));
        var (full, lora) = (ChatTasks.Mixture.ToDictionary(m => m.Task, m => m.Weight), SftMixture.Weights(lora: true).ToDictionary(m => m.Task, m => m.Weight));
        Assert.Equal(full.Keys.Order(), lora.Keys.Order());
        Assert.Equal(full.Values.Sum(), lora.Values.Sum(), 12);
        Assert.Equal(3.5, lora["lists"] / full["lists"], 12);
        Assert.True(lora["spelling"] < full["spelling"]);
        foreach (var task in new[] { "arithmetic", "arithmetic-hard", "tool-arithmetic", "greetings" })
            Assert.True(lora[task] >= full[task], $"{task}: LoRA must not see less of it than full SFT");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Drawn_problems_follow_the_weights(bool lora)
    {
        var weights = SftMixture.Weights(lora);
        var mixture = SftMixture.Create(lora, TestWords.List);
        var random = new Random(3);
        const int draws = 20_000;
        var counts = new Dictionary<string, int>();
        for (int i = 0; i < draws; i++)
        {
            var task = mixture.Pick(random).Name;
            counts[task] = counts.GetValueOrDefault(task) + 1;
        }
        double total = weights.Sum(m => m.Weight);
        foreach (var (task, weight) in weights)
            Assert.InRange(counts.GetValueOrDefault(task) / (double)draws, weight / total - 0.01, weight / total + 0.01);
    }

    [Fact]
    public void The_description_names_each_weight()
    {
        Assert.Equal("arithmetic 4, spelling 2.5, tool-arithmetic 1, lists 1.75, arithmetic-hard 0.75, greetings 0.3", SftMixture.Describe(lora: true));
    }
}

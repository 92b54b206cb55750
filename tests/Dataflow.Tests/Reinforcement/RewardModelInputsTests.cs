using Dataflow.Graph.Dsl.Layers;
using Dataflow.Reinforcement;
using Dataflow.Tests.Dsl;
using Dataflow.Training;

namespace Dataflow.Tests.Reinforcement;

/// <summary>What a reward model is fed: tokens, each row's last position, and — for graph/models/reward.dfg, which reads its language-model head — the next token at each position.</summary>
public sealed class RewardModelInputsTests
{
    [Fact]
    public void The_targets_are_the_tokens_moved_one_left_in_each_row()
    {
        var inputs = new RewardModelInputs("tokens", "B", "T", RewardModelInputs.TargetsInput);
        var feed = inputs.Feed([([1, 2], [3, 4]), ([5], [6])], length: 5);
        Assert.Equal(new[] { 1, 2, 3, 4, 0, 5, 6, 0, 0, 0 }, (int[])feed["tokens"]);
        Assert.Equal(new[] { 2, 3, 4, 0, 0, 6, 0, 0, 0, 0 }, (int[])feed[RewardModelInputs.TargetsInput]);
        Assert.Equal(new[] { 3, 1 }, (int[])feed[ValueHead.LastInput]);
    }

    [Fact]
    public void A_model_without_targets_is_fed_none()
    {
        var feed = new RewardModelInputs("tokens", "B", "T").Feed([([1], [2])], length: 3);
        Assert.False(feed.ContainsKey(RewardModelInputs.TargetsInput));
    }

    [Fact]
    public void The_shipped_reward_model_reads_the_next_tokens()
    {
        var config = new LanguageModelConfig("reward.dfg", File.ReadAllText(DslTestSupport.ModelPath("reward.dfg")), null, new Dictionary<string, string>
        {
            ["vocab"] = "12", ["ctx"] = "8", ["d"] = "16", ["heads"] = "2", ["layers"] = "1", ["dropout"] = "0",
        }, 8);
        var inputs = RewardModelInputs.Of(config.Load(training: false).Graph);
        Assert.Equal("tokens", inputs.Tokens);
        Assert.Equal(RewardModelInputs.TargetsInput, inputs.Targets);
    }
}

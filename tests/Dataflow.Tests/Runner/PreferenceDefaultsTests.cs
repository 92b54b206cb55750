using System.CommandLine;
using Dataflow.Runner.Commands;

namespace Dataflow.Tests.Runner;

/// <summary>
/// What <c>dpo</c> and <c>reward</c> run without flags: DPO the measured recipe (on-policy pairs for
/// <c>--data synthetic</c>, RPO α 2, lr 3e-5, 150 / 40 problems per task, 150 steps, an evaluation every
/// 25), the reward model templated pairs; and --help says which kind synthetic is.
/// </summary>
public sealed class PreferenceDefaultsTests
{
    private static ParseResult Parse(Command command) => command.Parse(["--from", "sft.ckpt", "--data", "synthetic"]);

    [Fact]
    public void Dpo_defaults_to_the_measured_recipe()
    {
        var r = Parse(DpoCommand.Create());
        Assert.Empty(r.Errors);
        Assert.Equal(2.0, r.GetValue<double>("--rpo-alpha"));
        Assert.Equal(3e-5, r.GetValue<double>("--lr"), 12);
        Assert.Equal(0.1, r.GetValue<double>("--beta"), 12);
        Assert.Equal(150, r.GetValue<int>("--problems"));
        Assert.Equal(40, r.GetValue<int>("--heldout-problems"));
        Assert.Equal(150L, r.GetValue<long>("--steps"));
        Assert.Equal(25L, r.GetValue<long>("--eval-interval"));
    }

    [Fact]
    public void Synthetic_is_on_policy_for_dpo_and_templated_for_a_reward_model()
    {
        static string Help(Command c) => c.Options.Single(o => o.Name == "--data").Description!;
        Assert.StartsWith("synthetic (here: sampled)", Help(DpoCommand.Create()));
        Assert.StartsWith("synthetic (here: templated)", Help(RewardCommand.Create()));
        Assert.Equal(RewardCommand.DefaultSteps, Parse(RewardCommand.Create()).GetValue<long>("--steps"));
    }
}

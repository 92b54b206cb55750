using Dataflow.Chat.Sft;
using Dataflow.Graph.Dsl;
using Dataflow.Reinforcement;
using Dataflow.Training;

namespace Dataflow.Speedrun;

/// <summary>
/// The full-size run the model file asks for: its <c>train(steps = …, sft_steps = …, rl_steps = …, rl_lr = …)</c>
/// settings, or the verbs' defaults where it names none. The budget scales these steps down, never up.
/// Pre-training and SFT both take the file's <c>batch</c> rows of the model's context, so a step of one costs a step of the other.
/// </summary>
public sealed record Recipe(long PretrainSteps, long SftSteps, long RlSteps, double RlLearningRate)
{
    /// <summary>GRPO's defaults, as <c>dataflow rl</c> runs it: 16 completions for each of 8 prompts, up to 32 tokens each.</summary>
    public const int RlGroup = 16, RlPromptsPerStep = 8, RlMaxTokens = 32;

    /// <summary>
    /// RL's learning rate without <c>rl_lr</c>: a tenth of the file's. At the pre-training rate (<c>dataflow rl</c>'s
    /// default) Adam's normalised steps on the few groups whose rewards differ wrecked the SFT model in a
    /// measured speedrun (spelling 0.48 → 0, greetings 0.43 → 0 in 29 steps on arithmetic); 6 GRPO steps on
    /// spelling from that SFT model left greetings at 0/50 with lr 0.003 and 12/50 with 0.0003 (both: spelling
    /// 0.40 → 0.50 held-out). nanochat's RL, likewise, runs at a few percent of its base rate.
    /// </summary>
    public const double RlLearningRateShare = 0.1;

    public static Recipe Of(SpeedrunSettings s)
    {
        var defaults = ModelLoader.Load(s.ModelPath, new ModelOptions(null, s.Overrides, Training: true)).Training;
        var args = defaults.TrainArgs;
        long Steps(string name, long fallback) => (long)args.GetValueOrDefault(name, fallback);
        double rlLr = args.TryGetValue("rl_lr", out var lr) ? lr : OptimizerSettings.From(defaults, null).LearningRate * RlLearningRateShare;
        return new Recipe(Steps("steps", 5000), Steps("sft_steps", SftRun.DefaultSteps), Steps("rl_steps", new GrpoSettings().Steps), rlLr);
    }
}

using Dataflow.Chat.Rl;
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
    /// <summary>GRPO's group and prompts per step, as <c>dataflow rl</c> runs it: 16 completions for each of 8 prompts.</summary>
    public const int RlGroup = 16, RlPromptsPerStep = 8;

    public static Recipe Of(SpeedrunSettings s)
    {
        var defaults = ModelLoader.Load(s.ModelPath, new ModelOptions(null, s.Overrides, Training: true)).Training;
        var args = defaults.TrainArgs;
        long Steps(string name, long fallback) => (long)args.GetValueOrDefault(name, fallback);
        return new Recipe(Steps("steps", 5000), Steps("sft_steps", SftRun.DefaultSteps), ChatTaskGrpo.Steps(defaults), ChatTaskGrpo.LearningRate(defaults));
    }
}

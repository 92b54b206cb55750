using System.Globalization;
using Dataflow.Reinforcement;
using Dataflow.Training;

namespace Dataflow.Chat.Preferences;

/// <summary>
/// A reward model for a chat model (<see cref="RewardModelRun"/>): the reward model's file lowered at the
/// language model's size (its trunk's settings taken from the checkpoint, so the trunk's weights fit), its
/// tokenizer and context, started from that checkpoint's trunk with a fresh scalar head.
/// </summary>
public static class ChatRewardModelRun
{
    /// <summary>The settings a reward model's trunk shares with the language model (graph/models/reward.dfg's, named as gpt.dfg and chat.dfg name them).</summary>
    public static IReadOnlyList<string> TrunkSettings { get; } = ["vocab", "ctx", "d", "heads", "layers", "dropout"];

    /// <param name="settings">Its <see cref="PostTrainingSettings.FromCheckpoint"/> is the trunk's checkpoint (normally <paramref name="from"/>'s path).</param>
    public static TrainingPlan Plan(RewardModelSettings settings, LanguageModelCheckpoint from, string modelFile, string modelSource, ChatPreferenceData data) =>
        RewardModelRun.Plan(settings, Config(from, modelFile, modelSource), from.Tokenizer, data.Train, data.HeldOut, data.HeldOutTasks);

    /// <summary>The reward model's config at <paramref name="from"/>'s size: each trunk setting the language model resolved, as an override.</summary>
    public static LanguageModelConfig Config(LanguageModelCheckpoint from, string modelFile, string modelSource)
    {
        var resolved = from.Config.Load(training: false).Settings;
        var overrides = TrunkSettings.Where(resolved.ContainsKey)
            .ToDictionary(name => name, name => resolved[name].ToString("R", CultureInfo.InvariantCulture), StringComparer.Ordinal);
        return new LanguageModelConfig(modelFile, modelSource, null, overrides, from.Config.Context);
    }
}

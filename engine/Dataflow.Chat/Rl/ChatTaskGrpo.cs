using Dataflow.Chat.Tasks;
using Dataflow.Engine;
using Dataflow.Graph.Dsl;
using Dataflow.Engine.Backends;
using Dataflow.Generation;
using Dataflow.Reinforcement;
using Dataflow.Training;

namespace Dataflow.Chat.Rl;

/// <summary>
/// GRPO (<see cref="GrpoRun"/>) on a chat task from a chat checkpoint: the task's training problems as
/// prompts, reward 1 when the task's verifier accepts the reply (or a reward model's score), greedy pass@1
/// on its held-out problems (the questions <c>eval --chat-task</c> asks) at each evaluation. Rollouts stop
/// at the assistant's end token. <c>dataflow rl</c> and the speedrun's RL stage both run through here.
/// </summary>
public static class ChatTaskGrpo
{
    /// <summary>The longest rollout: the column working of a 3-digit sum is about 34 tokens.</summary>
    public const int MaxTokens = 48;

    /// <summary>
    /// Rollout temperature: at 1 the SFT model's samples of a half-known task were right a tenth of the time
    /// (most groups tie at 0 and teach nothing); at 0.7 most groups hold both right and wrong replies.
    /// </summary>
    public const double Temperature = 0.7;

    /// <summary>RL's learning rate without <c>rl_lr</c> in the model file: this share of the file's rate.</summary>
    public const double LearningRateShare = 0.1;

    /// <summary>
    /// The model file's <c>train(rl_lr = …)</c>, else a tenth of its learning rate. At the pre-training rate
    /// Adam's normalised steps on the few groups whose rewards differ wrecked the SFT model in measured runs
    /// (held-out arithmetic 0.40 → 0.16 in 5 steps at 2e-4; spelling and greetings to 0 in 29 steps at 3e-3);
    /// nanochat's RL, likewise, runs at a few percent of its base rate.
    /// </summary>
    public static double LearningRate(LanguageModelConfig config) => LearningRate(config.Load(training: false).Training);

    /// <inheritdoc cref="LearningRate(LanguageModelConfig)"/>
    public static double LearningRate(TrainingDefaults training) =>
        training.TrainArgs.TryGetValue("rl_lr", out double value) ? value : OptimizerSettings.From(training, null).LearningRate * LearningRateShare;

    /// <summary>GRPO steps without <c>--steps</c>: the model file's <c>train(rl_steps = …)</c>, else GRPO's default.</summary>
    public static long Steps(TrainingDefaults training) =>
        training.TrainArgs.TryGetValue("rl_steps", out double value) ? (long)value : new GrpoSettings().Steps;

    /// <summary>The rollouts of a chat policy: up to <paramref name="maxTokens"/>, sampled at <paramref name="temperature"/>.</summary>
    public static RolloutOptions Rollout(int maxTokens = MaxTokens, double temperature = Temperature) => new(maxTokens, new SamplingOptions(temperature));

    /// <param name="settings">The run; its <see cref="PostTrainingSettings.FromCheckpoint"/> is the chat checkpoint, its learning rate
    /// <see cref="LearningRate"/> when unset; the rollouts' stop token is set here.</param>
    /// <param name="rewardFor">Rewards for the training rollouts of these prompts (a reward model); the task's verifier when null.
    /// The held-out pass@1 is always the verifier's.</param>
    public static (GrpoPlan Plan, TaskPrompts Train, TaskPrompts HeldOut) Plan(IChatTask task, GrpoSettings settings, int trainProblems, int heldOutProblems,
        Func<IBackend> referenceBackend, Func<IReadOnlyList<int[]>, RolloutOptions, BatchRewardFunction>? rewardFor = null)
    {
        if (settings.FromCheckpoint is not { } from) throw new ConfigurationException("GRPO on a chat task starts from a chat checkpoint");
        var stored = LanguageModelCheckpoint.Read(from);
        var tokens = new ChatTokens(stored.Tokenizer);
        var renderer = new ChatRenderer(tokens);
        var train = TaskPrompts.Make(task, renderer, DataSplit.Train, trainProblems, settings.Seed);
        var heldOut = TaskPrompts.Make(task, renderer, DataSplit.Test, heldOutProblems, settings.Seed);
        RewardFunction Verifier(TaskPrompts set) => (i, completion) => task.IsCorrect(set.Problems[i], completion.Text) ? 1 : 0;
        settings = settings with
        {
            Rollout = settings.Rollout with { StopToken = tokens.AssistantEnd },
            LearningRate = settings.LearningRate ?? LearningRate(stored.Config),
        };
        var grpo = rewardFor is null
            ? GrpoRun.Plan(settings, stored.Config, stored.Tokenizer, train.Prompts, Verifier(train), (heldOut.Prompts, Verifier(heldOut)), referenceBackend)
            : GrpoRun.Plan(settings, stored.Config, stored.Tokenizer, train.Prompts, rewardFor(train.Prompts, settings.Rollout), (heldOut.Prompts, Verifier(heldOut)), referenceBackend);
        return (grpo, train, heldOut);
    }
}

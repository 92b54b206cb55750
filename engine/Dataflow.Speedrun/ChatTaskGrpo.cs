using Dataflow.Chat;
using Dataflow.Chat.Tasks;
using Dataflow.Engine;
using Dataflow.Engine.Backends;
using Dataflow.Generation;
using Dataflow.Reinforcement;
using Dataflow.Training;

namespace Dataflow.Speedrun;

/// <summary>
/// GRPO (<see cref="GrpoRun"/>) on a chat task from a chat checkpoint: the task's training problems as
/// prompts, reward 1 when the task's verifier accepts the reply, greedy pass@1 on its held-out problems
/// (the questions <c>eval --chat-task</c> asks) at each evaluation. Rollouts stop at the assistant's end token.
/// </summary>
public static class ChatTaskGrpo
{
    /// <param name="settings">The run; its <see cref="PostTrainingSettings.FromCheckpoint"/> is the chat checkpoint, and the rollouts' stop token is set here.</param>
    public static (GrpoPlan Plan, TaskPrompts Train, TaskPrompts HeldOut) Plan(IChatTask task, GrpoSettings settings, int trainProblems, int heldOutProblems, Func<IBackend> referenceBackend)
    {
        if (settings.FromCheckpoint is not { } from) throw new ConfigurationException("GRPO on a chat task starts from a chat checkpoint");
        var stored = LanguageModelCheckpoint.Read(from);
        var tokens = new ChatTokens(stored.Tokenizer);
        var renderer = new ChatRenderer(tokens);
        var train = TaskPrompts.Make(task, renderer, DataSplit.Train, trainProblems, settings.Seed);
        var heldOut = TaskPrompts.Make(task, renderer, DataSplit.Test, heldOutProblems, settings.Seed);
        RewardFunction Verifier(TaskPrompts set) => (i, completion) => task.IsCorrect(set.Problems[i], completion.Text) ? 1 : 0;
        var grpo = GrpoRun.Plan(settings with { Rollout = settings.Rollout with { StopToken = tokens.AssistantEnd } },
            stored.Config, stored.Tokenizer, train.Prompts, Verifier(train), (heldOut.Prompts, Verifier(heldOut)), referenceBackend);
        return (grpo, train, heldOut);
    }
}

using Dataflow.Chat.Sft;
using Dataflow.Chat.Tasks;
using Dataflow.Engine.Sessions;
using Dataflow.Reinforcement;
using Dataflow.Training;

namespace Dataflow.Chat.Preferences;

/// <summary>
/// DPO of a chat model (<see cref="DpoRun"/>) that also measures what DPO is for: each task's held-out
/// accuracy of greedy replies (<see cref="ChatEvaluation"/>, <c>eval --chat-task</c>'s measure) before the
/// first step and after the last, beside the held-out pairs' implicit-reward accuracy and margin.
/// </summary>
public sealed class ChatDpoRun
{
    private ChatDpoRun(TrainingPlan plan) => Plan = plan;

    public TrainingPlan Plan { get; private set; }

    /// <summary>The tasks' accuracies (<c>TASK_acc</c>) and the held-out pair metrics on the starting policy; set once the run has started.</summary>
    public Evaluation? Before { get; private set; }

    /// <summary>The same after the last step; set when the run has finished.</summary>
    public Evaluation? After { get; private set; }

    /// <param name="settings">Its <see cref="PostTrainingSettings.FromCheckpoint"/> must be <paramref name="policy"/>'s path.</param>
    /// <param name="tasks">Whose held-out accuracy is measured before and after (none: only the pairs').</param>
    public static ChatDpoRun Create(DpoSettings settings, LanguageModelCheckpoint policy, ChatPreferenceData data, IReadOnlyList<IChatTask> tasks, int evalCount)
    {
        var plan = DpoRun.Plan(settings, policy.Config, policy.Tokenizer, data.Train, data.HeldOut);
        var run = new ChatDpoRun(plan);
        var measure = tasks.Count == 0 ? plan.Evaluator
            : new ChatTaskEvaluator(plan.Evaluator, tasks, evalCount, settings.Seed, session => new ChatGeneration(session, policy.Config, new ChatTokens(policy.Tokenizer), slots: 32));
        var prepare = plan.Prepare;
        run.Plan = plan with
        {
            Prepare = session => { prepare?.Invoke(session); run.Before = measure.Evaluate(session); },
            FinalEvaluator = new Recorded(measure, e => run.After = e),
        };
        return run;
    }

    private sealed class Recorded(IEvaluator inner, Action<Evaluation> record) : IEvaluator
    {
        public Evaluation Evaluate(Session session)
        {
            var evaluation = inner.Evaluate(session);
            record(evaluation);
            return evaluation;
        }
    }
}

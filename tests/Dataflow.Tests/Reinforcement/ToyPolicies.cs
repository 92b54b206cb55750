using Dataflow.Engine.Tokenizers;
using Dataflow.Tests.Dsl;
using Dataflow.Training;

namespace Dataflow.Tests.Reinforcement;

/// <summary>A tiny character GPT (graph/models/gpt.dfg, one layer, no dropout) over a five-letter alphabet, for the RL and preference tests.</summary>
internal static class ToyPolicies
{
    public static readonly CharTokenizer Letters = CharTokenizer.FromText("abcde");

    public static LanguageModelConfig TinyGpt(int context = 8) => new("gpt.dfg", File.ReadAllText(DslTestSupport.ModelPath("gpt.dfg")), null,
        new Dictionary<string, string>
        {
            ["vocab"] = Letters.VocabSize.ToString(), ["ctx"] = context.ToString(), ["d"] = "16", ["heads"] = "2", ["layers"] = "1", ["dropout"] = "0",
        }, context);

    /// <summary>Collects what the trainer reports.</summary>
    public sealed class Recorder : ITrainingObserver
    {
        public List<StepReport> Steps { get; } = [];
        public List<EvaluationReport> Evaluations { get; } = [];
        public void OnStep(StepReport step) => Steps.Add(step);
        public void OnEvaluation(EvaluationReport report) => Evaluations.Add(report);
    }

    public static double Metric(StepReport step, string name) => step.Metrics.Single(m => m.Key == name).Value;
}

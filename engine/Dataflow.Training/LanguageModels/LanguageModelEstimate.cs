using Dataflow.Engine.Data;
using Dataflow.Engine.Sessions;
using Dataflow.Graph.Ir;

namespace Dataflow.Training;

/// <summary>
/// nanoGPT's estimate_loss: the mean loss of <c>iters</c> random windows of each split, on the
/// dropout-free model. Each evaluation draws from its own generator (seeded by the run's seed and the
/// step), so evaluating never shifts the training batches.
/// </summary>
public sealed class LanguageModelEstimate(ComputeGraph evalGraph, LanguageModelInputs inputs, TextCorpus corpus, int batch, int context, int iters, int seed) : IEvaluator
{
    private readonly StepGraph _inference = StepGraph.ForwardOnly(evalGraph);
    private readonly TokenBatchSampler _train = new(corpus.Train, context);
    private readonly TokenBatchSampler _validation = new(corpus.Validation, context);
    private readonly int[] _tokens = new int[batch * context], _targets = new int[batch * context];
    private static readonly string[] LossOnly = [StepGraph.LossOutput];
    // The loss of each pass is read into one array, not a fresh one per pass.
    private readonly Dictionary<string, float[]> _loss = new(StringComparer.Ordinal) { [StepGraph.LossOutput] = new float[1] };

    public Evaluation Evaluate(Session session)
    {
        var graph = session.Compile(_inference, inputs.Bindings(batch, context));
        var fed = new Dictionary<string, Array> { [inputs.Tokens] = _tokens, [inputs.Targets] = _targets };
        var random = new SeededRandom(((ulong)(uint)seed << 32) ^ (ulong)session.Step ^ 0xE7A1UL);
        double Mean(TokenBatchSampler data)
        {
            double sum = 0;
            for (int i = 0; i < iters; i++)
            {
                data.Next(random, _tokens, _targets);
                sum += session.Run(graph, fed, LossOnly, into: _loss).Results[StepGraph.LossOutput][0];
            }
            return sum / iters;
        }
        double train = Mean(_train), validation = Mean(_validation);
        return new Evaluation(validation, [Evaluation.Metric("val_loss", validation)]) { TrainLoss = train };
    }
}

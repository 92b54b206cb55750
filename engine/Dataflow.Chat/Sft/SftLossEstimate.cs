using Dataflow.Engine.Sessions;
using Dataflow.Graph.Ir;
using Dataflow.Training;

namespace Dataflow.Chat.Sft;

/// <summary>
/// The masked loss on held-out conversations, packed once into fixed rows: the mean over every
/// trained target (each batch's mean weighted by how many it holds, so a half-empty last batch counts as much as it should).
/// </summary>
public sealed class SftLossEstimate : IEvaluator
{
    private readonly StepGraph _inference;
    private readonly LanguageModelInputs _inputs;
    private readonly int _batch, _context;
    private readonly List<(int[] Tokens, int[] Targets, int Trained)> _batches = [];

    public SftLossEstimate(ComputeGraph evalGraph, LanguageModelInputs inputs, ConversationPacker validation, int batch, int maxBatches)
    {
        (_inference, _inputs, _batch, _context) = (StepGraph.ForwardOnly(evalGraph), inputs, batch, validation.Context);
        for (int b = 0; b < maxBatches; b++)
        {
            var (tokens, targets) = (new int[batch * _context], new int[batch * _context]);
            int trained = 0;
            for (int row = 0; row < batch; row++)
                trained += validation.Fill(tokens.AsSpan(row * _context, _context), targets.AsSpan(row * _context, _context));
            if (trained == 0) break;
            _batches.Add((tokens, targets, trained));
        }
    }

    /// <summary>Trained targets in the held-out rows.</summary>
    public long Targets => _batches.Sum(b => (long)b.Trained);

    public Evaluation Evaluate(Session session)
    {
        if (_batches.Count == 0) return new Evaluation(double.NaN, [Evaluation.Metric("val_loss", double.NaN)]);
        var graph = session.Compile(_inference, _inputs.Bindings(_batch, _context));
        double sum = 0;
        foreach (var (tokens, targets, trained) in _batches)
        {
            var fed = new Dictionary<string, Array> { [_inputs.Tokens] = tokens, [_inputs.Targets] = targets };
            sum += trained * (double)session.Run(graph, fed, [StepGraph.LossOutput]).Results[StepGraph.LossOutput][0];
        }
        double loss = sum / Targets;
        return new Evaluation(loss, [Evaluation.Metric("val_loss", loss)]);
    }
}

using System.Globalization;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Sessions;
using Dataflow.Graph.Dsl;
using Dataflow.Engine;
using Dataflow.Graph.Ir;
using Dataflow.Training.Tasks;

namespace Dataflow.Training;

/// <summary>Exact-match accuracy of one source length.</summary>
public sealed record LengthAccuracy(int Length, int Count, int Correct)
{
    public double Accuracy => Count == 0 ? 0 : (double)Correct / Count;
}

/// <summary>
/// A model on a held-out set: teacher-forced loss and token accuracy, and the exact-match accuracy of
/// greedy decoding (every target token and then EOS), overall and per source length.
/// </summary>
public sealed record Seq2SeqMetrics(string Task, double Loss, double TokenAccuracy, double ExactMatch, int Count, IReadOnlyList<LengthAccuracy> PerLength)
{
    /// <summary>Exact match per source length: <c>5:1.000  6:0.992 …</c>.</summary>
    public string FormatPerLength() =>
        string.Join("  ", PerLength.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Length}:{p.Accuracy:F3}")));
}

/// <summary>
/// Evaluates a session's model on a held-out set, one batch per source length. Holds its inference
/// graph so that the session's compile cache (keyed by graph and shapes) is reused across evaluations.
/// </summary>
public sealed class Seq2SeqEvaluator(ComputeGraph evalGraph, Seq2SeqInputs inputs, HeldOutSet heldOut) : IEvaluator
{
    private readonly StepGraph _inference = StepGraph.ForwardOnly(evalGraph);

    /// <summary>
    /// The eval verb's entry: a checkpoint on its task's held-out set. The task, source lengths and
    /// set size come from the checkpoint's config unless given, so the set is the one training reported on.
    /// </summary>
    public static Seq2SeqMetrics EvaluateCheckpoint(LoadedModel model, string checkpointPath, string? task, IBackend backend)
    {
        var inputs = Seq2SeqInputs.Of(model.Graph);
        using var session = new Session(backend, seed: 0);
        var config = SessionCheckpoint.Load(session, model.Graph, checkpointPath).Header.Config;
        int Setting(string key, int fallback) =>
            config.TryGetValue(key, out var v) && int.TryParse(v, CultureInfo.InvariantCulture, out var n) ? n : fallback;
        var name = task ?? config.GetValueOrDefault("task")
            ?? throw new ConfigurationException($"{checkpointPath} does not say which task it was trained on; give --task ({string.Join(", ", TransductionTasks.Names)})");
        var resolved = TransductionTasks.Create(name, Setting("min_length", 5), Setting("max_length", 20));
        var heldOut = HeldOutSet.Create(resolved, Setting("eval_per_length", HeldOutSet.DefaultPerLength));
        return new Seq2SeqEvaluator(model.Graph, inputs, heldOut).Measure(session);
    }

    /// <summary>For the trainer: <c>val_loss</c>, <c>val_token_acc</c> and <c>exact_match</c>, per length as the detail.</summary>
    public Evaluation Evaluate(Session session)
    {
        var m = Measure(session);
        return new Evaluation(m.Loss, [Evaluation.Metric("val_loss", m.Loss), Evaluation.Metric("val_token_acc", m.TokenAccuracy), Evaluation.Metric("exact_match", m.ExactMatch)])
        {
            Accuracy = m.ExactMatch,
            Detail = "per length: " + m.FormatPerLength(),
        };
    }

    public Seq2SeqMetrics Measure(Session session)
    {
        double lossSum = 0;
        long tokens = 0, tokensRight = 0;
        var perLength = new List<LengthAccuracy>();
        foreach (var (length, samples) in heldOut.ByLength())
        {
            var batch = Seq2SeqBatch.From(samples);
            var graph = session.Compile(_inference, inputs.Bindings(batch));
            var forced = session.Run(graph, Seq2SeqInputs.Feed(batch), [Seq2SeqInputs.Logits, StepGraph.LossOutput]).Results;
            int real = batch.TargetOut.Count(t => t != TransductionVocabulary.Pad);
            lossSum += forced[StepGraph.LossOutput][0] * real;
            tokens += real;
            tokensRight += TokensRight(batch, forced[Seq2SeqInputs.Logits]);

            var decoded = GreedyDecoder.Decode(session, graph, batch, inputs.Vocabulary);
            int correct = 0;
            for (int b = 0; b < batch.Count; b++)
                if (IsExact(batch, decoded, b, samples[b].Target.Length)) correct++;
            perLength.Add(new LengthAccuracy(length, batch.Count, correct));
        }
        int count = perLength.Sum(p => p.Count);
        return new Seq2SeqMetrics(heldOut.Task.Name, lossSum / Math.Max(1, tokens), (double)tokensRight / Math.Max(1, tokens),
            (double)perLength.Sum(p => p.Correct) / Math.Max(1, count), count, perLength);
    }

    /// <summary>Row b matches when its first |target| + 1 tokens are the target and then EOS.</summary>
    private static bool IsExact(Seq2SeqBatch batch, int[] decoded, int b, int targetLength) =>
        decoded.AsSpan(b * batch.TargetLength, targetLength + 1).SequenceEqual(batch.TargetOut.AsSpan(b * batch.TargetLength, targetLength + 1));

    private int TokensRight(Seq2SeqBatch batch, float[] logits)
    {
        int right = 0;
        for (int i = 0; i < batch.TargetOut.Length; i++)
            if (batch.TargetOut[i] != TransductionVocabulary.Pad &&
                ClassifierEvaluator.ArgMax(logits.AsSpan(i * inputs.Vocabulary, inputs.Vocabulary)) == batch.TargetOut[i])
                right++;
        return right;
    }
}

using Dataflow.Engine.Backends;
using Dataflow.Engine.Data;
using Dataflow.Engine.Sessions;
using Dataflow.Graph.Dsl;
using Dataflow.Graph.Ir;

namespace Dataflow.Training;

/// <summary>Loss, accuracy and confusion matrix of a classifier over a whole dataset.</summary>
public sealed record ClassifierMetrics(double Loss, double Accuracy, int[,] Confusion, int Count);

/// <summary>A classifier's loss and accuracy on a dataset, every example once in batches of <see cref="BatchSize"/>.</summary>
public sealed class ClassifierEvaluator(ComputeGraph evalGraph, ClassifierInputs inputs, Dataset data, int classes) : IEvaluator
{
    public const int BatchSize = 1000;

    /// <summary>For the trainer: <c>val_loss</c> and <c>val_acc</c>.</summary>
    public Evaluation Evaluate(Session session)
    {
        var metrics = Evaluate(session, evalGraph, inputs, data, classes);
        return new Evaluation(metrics.Loss, [Evaluation.Metric("val_loss", metrics.Loss), Evaluation.Metric("val_acc", metrics.Accuracy)])
        {
            Accuracy = metrics.Accuracy,
        };
    }

    /// <summary>A checkpoint of <paramref name="model"/> on the test set of <paramref name="dataName"/> (the eval verb).</summary>
    public static ClassifierMetrics EvaluateCheckpoint(LoadedModel model, string checkpointPath, string dataName, IBackend backend)
    {
        using var session = new Session(backend, seed: 0);
        SessionCheckpoint.Load(session, model.Graph, checkpointPath);
        var test = DataSources.FashionMnistTest(dataName);
        var inputs = ClassifierInputs.Of(model.Graph, test.FeatureWidth, dataName);
        return Evaluate(session, model.Graph, inputs, test, FashionMnist.ClassNames.Count);
    }

    public static ClassifierMetrics Evaluate(Session session, ComputeGraph evalGraph, ClassifierInputs inputs, Dataset data, int classes)
    {
        var inference = StepGraph.ForwardOnly(evalGraph);
        string batchSymbol = ClassifierInputs.BatchSymbol(evalGraph, inputs.Features);
        var iterator = BatchIterator.ForEvaluation(data, BatchSize);
        var features = new float[BatchSize * data.FeatureWidth];
        var labels = new int[BatchSize];
        var confusion = new int[classes, classes];
        double lossSum = 0;
        int seen = 0, correct = 0;

        while (iterator.TryNext(features, labels, out int count))
        {
            var graph = session.Compile(inference, new Dictionary<string, long> { [batchSymbol] = count });
            var fed = new Dictionary<string, Array>
            {
                [inputs.Features] = count == BatchSize ? features : features[..(count * data.FeatureWidth)],
                [inputs.Labels] = count == BatchSize ? labels : labels[..count],
            };
            var results = session.Run(graph, fed, [inputs.Logits, StepGraph.LossOutput]).Results;
            lossSum += results[StepGraph.LossOutput][0] * count;
            var logits = results[inputs.Logits];
            for (int i = 0; i < count; i++)
            {
                int predicted = ArgMax(logits.AsSpan(i * classes, classes));
                confusion[labels[i], predicted]++;
                if (predicted == labels[i]) correct++;
            }
            seen += count;
        }
        return new ClassifierMetrics(lossSum / seen, (double)correct / seen, confusion, seen);
    }

    public static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }
}

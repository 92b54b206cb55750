using Dataflow.Engine;
using Dataflow.Engine.Data;

namespace Dataflow.Training;

/// <summary>Resolves a dataset name (<c>--data NAME</c>). The training split holds out a validation set; the test set is for evaluation only.</summary>
public static class DataSources
{
    public sealed record TrainingData(Dataset Train, Dataset Validation);

    public static TrainingData FashionMnistTraining(string name)
    {
        var source = Open(name);
        var (train, validation) = DatasetSplit.HoldOut(source.LoadTraining(), FashionMnist.DefaultValidationCount, FashionMnist.DefaultSplitSeed);
        return new TrainingData(train, validation);
    }

    public static Dataset FashionMnistTest(string name) => Open(name).LoadTest();

    private static FashionMnist Open(string name)
    {
        if (!string.Equals(name, "fashion-mnist", StringComparison.OrdinalIgnoreCase))
            throw new ConfigurationException($"--data {name}: unknown dataset (known: fashion-mnist)");
        return new FashionMnist();
    }
}

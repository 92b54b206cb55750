using Dataflow.Engine.Data;
using Dataflow.Runner.Cli;

namespace Dataflow.Runner.Training;

/// <summary>Resolves <c>--data NAME</c>. The training split holds out a validation set; the test set is for <c>eval</c> only.</summary>
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
            throw new UsageException($"--data {name}: unknown dataset (known: fashion-mnist)");
        return new FashionMnist();
    }
}

using Dataflow.Engine.Data;
using Dataflow.Tests.Support;

namespace Dataflow.Tests.Data;

/// <summary>Runs where tools/setup has installed Fashion-MNIST; skipped with the reason elsewhere.</summary>
public sealed class FashionMnistInstalledFactAttribute : FactAttribute
{
    public FashionMnistInstalledFactAttribute()
    {
        if (!Directory.Exists(FashionMnist.DefaultDirectory))
            Skip = $"{FashionMnist.DefaultDirectory} is absent; tools/setup installs it (Debian package dataset-fashion-mnist)";
    }
}

public sealed class FashionMnistTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void LoadsImagesScaledToUnitRangeAndLabels(bool gzip)
    {
        IdxFiles.WriteFashionPair(_dir.Path, "train", count: 30, gzip);
        IdxFiles.WriteFashionPair(_dir.Path, "t10k", count: 7, gzip);

        var splits = new FashionMnist(_dir.Path).Load(validationCount: 5);

        Assert.Equal(25, splits.Train.Count);
        Assert.Equal(5, splits.Validation.Count);
        Assert.Equal(7, splits.Test.Count);
        Assert.Equal(784, splits.Test.FeatureWidth);
        Assert.Equal([0, 1, 2, 3, 4, 5, 6], splits.Test.Labels);
        Assert.Equal(0f, splits.Test.Features[0]);
        Assert.Equal(1f, splits.Test.Features[255]);
        Assert.Equal(128 / 255f, splits.Test.Features[128]);
    }

    [Fact]
    public void MissingFilesNameTheFileAndTheWayToGetThem()
    {
        var error = Assert.Throws<DataException>(() => new FashionMnist(_dir.Path).LoadTest());

        Assert.StartsWith(Path.Combine(_dir.Path, "t10k-images-idx3-ubyte.gz") + ": no such file", error.Message);
        Assert.Contains("tools/setup", error.Message);
        Assert.Contains(FashionMnist.DirectoryVariable, error.Message);
    }

    [Fact]
    public void LabelCountMustMatchImageCount()
    {
        IdxFiles.WriteFashionPair(_dir.Path, "t10k", count: 7, gzip: false);
        File.WriteAllBytes(Path.Combine(_dir.Path, "t10k-labels-idx1-ubyte"), IdxFiles.Encode([6], new byte[6]));

        var error = Assert.Throws<DataException>(() => new FashionMnist(_dir.Path).LoadTest());

        Assert.Contains("dims [6] do not give one label for each of the 7 images", error.Message);
    }

    [Fact]
    public void ClassNamesAreTheTenFashionMnistClasses()
    {
        Assert.Equal(10, FashionMnist.ClassNames.Count);
        Assert.Equal("T-shirt/top", FashionMnist.ClassNames[0]);
        Assert.Equal("Ankle boot", FashionMnist.ClassNames[9]);
    }

    [FashionMnistInstalledFact]
    public void TheInstalledDataSetHasTheDocumentedSizes()
    {
        var splits = new FashionMnist(FashionMnist.DefaultDirectory).Load();

        Assert.Equal(55_000, splits.Train.Count);
        Assert.Equal(5_000, splits.Validation.Count);
        Assert.Equal(10_000, splits.Test.Count);
        Assert.Equal(10_000 * 784, splits.Test.Features.Length);
        Assert.Equal(9, splits.Test.Labels[0]); // the first test image is an ankle boot
        Assert.All(Enumerable.Range(0, 10), c => Assert.Equal(1000, splits.Test.Labels.Count(l => l == c)));
        Assert.InRange(splits.Train.Features.Max(), 0.99f, 1f);
        Assert.Equal(0f, splits.Train.Features.Min());
    }
}

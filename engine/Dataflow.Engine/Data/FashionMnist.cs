namespace Dataflow.Engine.Data;

/// <summary>
/// Fashion-MNIST: 28×28 grey images of clothing in 10 classes, 60,000 for training and 10,000 for
/// testing, as IDX files. Debian's <c>dataset-fashion-mnist</c> (installed by tools/setup) puts them in
/// <see cref="DefaultDirectory"/> as <c>train-images-idx3-ubyte.gz</c>, <c>train-labels-idx1-ubyte.gz</c>,
/// <c>t10k-images-idx3-ubyte.gz</c> and <c>t10k-labels-idx1-ubyte.gz</c>; unpacked copies (no .gz) also do.
/// </summary>
public sealed class FashionMnist
{
    public const string DefaultDirectory = "/usr/share/datasets/fashion-mnist";
    public const string DirectoryVariable = "DATAFLOW_FASHION_MNIST";
    public const int ImageSide = 28;
    public const int FeatureWidth = ImageSide * ImageSide;
    public const int DefaultValidationCount = 5000;

    /// <summary>Fixed so that every run, and every resumed run, validates on the same examples.</summary>
    public const ulong DefaultSplitSeed = 0x5EED_FA51_0000_0001;

    public static IReadOnlyList<string> ClassNames { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <param name="directory">Where the files are; null means $DATAFLOW_FASHION_MNIST, else <see cref="DefaultDirectory"/>.</param>
    public FashionMnist(string? directory = null)
    {
        Directory = directory
            ?? (Environment.GetEnvironmentVariable(DirectoryVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : DefaultDirectory);
    }

    public string Directory { get; }

    /// <summary>All 60,000 training examples; <see cref="Load"/> splits off validation.</summary>
    public Dataset LoadTraining() => LoadPair("train");

    /// <summary>The 10,000 test examples: for final evaluation only, never for choosing settings.</summary>
    public Dataset LoadTest() => LoadPair("t10k");

    /// <summary>Training set minus a held-out validation set, and the test set.</summary>
    public FashionMnistSplits Load(int validationCount = DefaultValidationCount, ulong splitSeed = DefaultSplitSeed)
    {
        var (train, validation) = DatasetSplit.HoldOut(LoadTraining(), validationCount, splitSeed);
        return new FashionMnistSplits(train, validation, LoadTest());
    }

    private Dataset LoadPair(string prefix)
    {
        var images = IdxReader.Read(Locate($"{prefix}-images-idx3-ubyte"));
        var labels = IdxReader.Read(Locate($"{prefix}-labels-idx1-ubyte"));

        if (images.Dims is not [var count, ImageSide, ImageSide])
            throw new DataException($"{images.Path}: dims {images.DimsText} are not N × {ImageSide} × {ImageSide} images");
        if (labels.Dims is not [var labelCount] || labelCount != count)
            throw new DataException($"{labels.Path}: dims {labels.DimsText} do not give one label for each of the {count} images in {images.Path}");

        var features = new float[images.Data.Length];
        for (int i = 0; i < features.Length; i++) features[i] = PixelScale[images.Data[i]];

        var classes = new int[labelCount];
        for (int i = 0; i < classes.Length; i++)
        {
            classes[i] = labels.Data[i];
            if (classes[i] >= ClassNames.Count)
                throw new DataException($"{labels.Path}: label {classes[i]} of example {i} is not one of the {ClassNames.Count} classes");
        }
        return new Dataset(features, classes, FeatureWidth);
    }

    /// <summary>b / 255, correctly rounded, so 255 is exactly 1 (multiplying by 1/255f is not).</summary>
    private static readonly float[] PixelScale = Enumerable.Range(0, 256).Select(b => b / 255f).ToArray();

    private string Locate(string name)
    {
        foreach (string candidate in new[] { name + ".gz", name })
        {
            string path = Path.Combine(Directory, candidate);
            if (File.Exists(path)) return path;
        }
        throw new DataException(
            $"{Path.Combine(Directory, name + ".gz")}: no such file; Fashion-MNIST is installed by tools/setup " +
            $"(Debian package dataset-fashion-mnist), or set {DirectoryVariable} to a directory that holds it");
    }
}

public sealed record FashionMnistSplits(Dataset Train, Dataset Validation, Dataset Test);

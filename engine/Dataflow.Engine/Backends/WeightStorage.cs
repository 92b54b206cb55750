namespace Dataflow.Engine.Backends;

/// <summary>
/// How an inference session stores its matrix weights. Activations, biases, norms and every training
/// session stay f32; <see cref="Bf16"/> rounds each weight a matrix product reads to bfloat16 once, at
/// load (round to nearest even), so a decode step reads half the bytes.
/// </summary>
public enum WeightStorage : byte
{
    F32 = 0,
    Bf16 = 1,
}

public static class WeightStorageNames
{
    public const string Choices = "f32 | bf16";

    public static string Name(this WeightStorage storage) => storage == WeightStorage.Bf16 ? "bf16" : "f32";

    public static bool TryParse(string? text, out WeightStorage storage)
    {
        switch (text)
        {
            case "f32": storage = WeightStorage.F32; return true;
            case "bf16": storage = WeightStorage.Bf16; return true;
            default: storage = default; return false;
        }
    }
}

/// <summary>
/// A backend that keeps a second copy of a matrix weight for the matrix products of a decode step (the CPU
/// backend): bf16 words, or f32 laid out as those products read fastest. One that does not implement this
/// refuses <see cref="WeightStorage.Bf16"/> and decodes from the weight as it is.
/// </summary>
public interface IDecodeWeights
{
    /// <summary>
    /// Keeps the copy of <paramref name="weight"/>, a [<paramref name="rows"/>, <paramref name="cols"/>] matrix that a
    /// product reads as its right operand (<paramref name="readTransposed"/>: as its transpose, x · Wᵀ). Bf16 rounds
    /// the buffer's values to bfloat16 in place; later uploads into the buffer are rounded and copied the same way,
    /// so the two never disagree.
    /// </summary>
    void KeepDecodeCopy(IDeviceBuffer weight, WeightStorage storage, long rows, long cols, bool readTransposed);

    /// <summary>Frees the weight's f32 decode copy, if it has one (its products read the weight itself again); bf16 words stay.</summary>
    void DropDecodeCopy(IDeviceBuffer weight);
}

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
/// A backend that can hold a weight as bfloat16 for its matrix products (the CPU backend). One that
/// does not implement this refuses <see cref="WeightStorage.Bf16"/>.
/// </summary>
public interface IBf16Weights
{
    /// <summary>
    /// Rounds the buffer's values to bfloat16 in place and keeps them also as 16-bit words, which the
    /// matrix-product kernels read instead of the f32 values; later uploads into the buffer are rounded
    /// the same way, so the two never disagree.
    /// </summary>
    void StoreAsBf16(IDeviceBuffer weight);
}

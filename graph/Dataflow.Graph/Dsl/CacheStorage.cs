using Dataflow.Graph.Tensors;

namespace Dataflow.Graph.Dsl;

/// <summary>
/// How decode mode stores its key/value caches: f32, or <see cref="Bf16"/>, each value rounded to bfloat16 as it is
/// written (<see cref="DType.Bf16x2"/> state tensors): half the bytes a step's attention reads and half the memory a slot
/// holds, at bfloat16's precision (8 bits of mantissa) in every key and value.
/// </summary>
public enum CacheStorage : byte
{
    F32 = 0,
    Bf16 = 1,
}

public static class CacheStorageNames
{
    public const string Choices = "f32 | bf16";

    public static string Name(this CacheStorage storage) => storage == CacheStorage.Bf16 ? "bf16" : "f32";

    public static bool TryParse(string? text, out CacheStorage storage)
    {
        switch (text)
        {
            case "f32": storage = CacheStorage.F32; return true;
            case "bf16": storage = CacheStorage.Bf16; return true;
            default: storage = default; return false;
        }
    }
}

namespace Dataflow.Graph.Tensors;

/// <summary>Element types a tensor may hold. Every type is 4 bytes wide so buffers can be planned in elements.</summary>
public enum DType : byte
{
    F32 = 0,
    I32 = 1,

    /// <summary>
    /// Two bfloat16 values in one 4-byte element (<see cref="BFloat16.Pack"/>): element j of a row holds columns 2j (low
    /// half) and 2j + 1 (high half), so in memory a row is its columns' 16-bit words in order. Only a key/value cache is
    /// stored so (written by store_rows, read by cached_attention); no other op takes it.
    /// </summary>
    Bf16x2 = 2,
}

public static class DTypeExtensions
{
    public static int SizeInBytes(this DType dtype) => 4;

    public static string Name(this DType dtype) => dtype switch
    {
        DType.F32 => "f32",
        DType.I32 => "i32",
        DType.Bf16x2 => "bf16x2",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    /// <summary>The types a model file may declare (bf16x2 is made by decode mode's lowering, never declared).</summary>
    public static bool TryParse(string text, out DType dtype)
    {
        switch (text)
        {
            case "f32": dtype = DType.F32; return true;
            case "i32": dtype = DType.I32; return true;
            default: dtype = default; return false;
        }
    }
}

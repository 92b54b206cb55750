namespace Dataflow.Graph.Tensors;

/// <summary>Element types a tensor may hold. Every type is 4 bytes wide so buffers can be planned in elements.</summary>
public enum DType : byte
{
    F32 = 0,
    I32 = 1,
}

public static class DTypeExtensions
{
    public static int SizeInBytes(this DType dtype) => 4;

    public static string Name(this DType dtype) => dtype switch
    {
        DType.F32 => "f32",
        DType.I32 => "i32",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

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

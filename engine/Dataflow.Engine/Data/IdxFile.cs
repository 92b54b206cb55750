namespace Dataflow.Engine.Data;

/// <summary>The contents of an IDX file of unsigned bytes: its dims (outermost first) and the raw values.</summary>
public sealed record IdxFile(string Path, int[] Dims, byte[] Data)
{
    public string DimsText => Format(Dims);

    internal static string Format(int[] dims) => "[" + string.Join(", ", dims) + "]";
}

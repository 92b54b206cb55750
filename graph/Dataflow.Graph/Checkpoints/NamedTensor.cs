using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Dataflow.Graph.Tensors;

namespace Dataflow.Graph.Checkpoints;

/// <summary>
/// One tensor as stored: raw little-endian bytes, so NaN payloads and -0 survive a round trip and a
/// later dtype needs no new encoding. Record equality compares the array references, not contents.
/// </summary>
public sealed record NamedTensor(string Name, DType DType, long[] Shape, byte[] Data)
{
    public long ElementCount => ElementsOf(Shape) ?? throw new InvalidOperationException($"tensor '{Name}' has an invalid shape {CheckpointFormat.ShapeText(Shape)}");

    public float[] AsFloats()
    {
        RequireDType(DType.F32);
        var values = new float[Data.Length / sizeof(float)];
        if (BitConverter.IsLittleEndian) MemoryMarshal.Cast<byte, float>(Data).CopyTo(values);
        else for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(Data.AsSpan(i * sizeof(float)));
        return values;
    }

    public int[] AsInts()
    {
        RequireDType(DType.I32);
        var values = new int[Data.Length / sizeof(int)];
        if (BitConverter.IsLittleEndian) MemoryMarshal.Cast<byte, int>(Data).CopyTo(values);
        else for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadInt32LittleEndian(Data.AsSpan(i * sizeof(int)));
        return values;
    }

    public static NamedTensor FromFloats(string name, long[] shape, ReadOnlySpan<float> values)
    {
        CheckCount(name, shape, values.Length);
        var data = new byte[values.Length * sizeof(float)];
        if (BitConverter.IsLittleEndian) MemoryMarshal.AsBytes(values).CopyTo(data);
        else for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(i * sizeof(float)), values[i]);
        return new NamedTensor(name, DType.F32, (long[])shape.Clone(), data);
    }

    public static NamedTensor FromInts(string name, long[] shape, ReadOnlySpan<int> values)
    {
        CheckCount(name, shape, values.Length);
        var data = new byte[values.Length * sizeof(int)];
        if (BitConverter.IsLittleEndian) MemoryMarshal.AsBytes(values).CopyTo(data);
        else for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(i * sizeof(int)), values[i]);
        return new NamedTensor(name, DType.I32, (long[])shape.Clone(), data);
    }

    /// <summary>The product of the dims; null when a dim is negative or the product overflows.</summary>
    internal static long? ElementsOf(IReadOnlyList<long> shape)
    {
        long count = 1;
        foreach (long dim in shape)
        {
            if (dim < 0) return null;
            try { count = checked(count * dim); }
            catch (OverflowException) { return null; }
        }
        return count;
    }

    /// <summary>Why the data cannot be this dtype and shape, or null when it can.</summary>
    internal string? Problem()
    {
        long? elements = ElementsOf(Shape);
        if (elements is null) return $"tensor '{Name}' has an invalid shape {CheckpointFormat.ShapeText(Shape)}";
        long expected = elements.Value * DType.SizeInBytes();
        if (Data.LongLength != expected)
            return $"tensor '{Name}' has {Data.LongLength} bytes of data but {DType.Name()}{CheckpointFormat.ShapeText(Shape)} needs {expected}";
        return null;
    }

    private void RequireDType(DType wanted)
    {
        if (DType != wanted) throw new InvalidOperationException($"tensor '{Name}' is {DType.Name()}, not {wanted.Name()}");
    }

    private static void CheckCount(string name, long[] shape, int count)
    {
        if (ElementsOf(shape) != count)
            throw new ArgumentException($"tensor '{name}': shape {CheckpointFormat.ShapeText(shape)} does not hold {count} values", nameof(shape));
    }
}

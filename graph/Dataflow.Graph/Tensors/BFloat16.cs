namespace Dataflow.Graph.Tensors;

/// <summary>
/// bfloat16, the high 16 bits of an f32 (same exponent range, 8 bits of mantissa): narrowing rounds to nearest, ties to
/// even; widening is exact. Its one definition, shared by the reference evaluation and the backends' scalar paths.
/// </summary>
public static class BFloat16
{
    /// <summary>The bfloat16 nearest <paramref name="value"/> (ties to even); NaN stays a (quiet) NaN, infinities stay infinite.</summary>
    public static ushort FromSingle(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((bits >> 16) | 0x0040);
        uint roundingBias = 0x7FFFu + ((bits >> 16) & 1);
        return (ushort)((bits + roundingBias) >> 16);
    }

    public static float ToSingle(ushort value) => BitConverter.UInt32BitsToSingle((uint)value << 16);

    /// <summary>One <see cref="DType.Bf16x2"/> element: <paramref name="even"/> in the low half, <paramref name="odd"/> in the high half.</summary>
    public static int Pack(float even, float odd) => FromSingle(even) | FromSingle(odd) << 16;

    /// <summary>Column <paramref name="half"/> (0: the low half, 1: the high half) of a <see cref="DType.Bf16x2"/> element, as f32.</summary>
    public static float Unpack(int pair, int half) => ToSingle((ushort)((uint)pair >> (16 * half)));
}

using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// bfloat16 as this backend stores weights: the high 16 bits of an f32 (same exponent range, 8 bits of
/// mantissa). Narrowing rounds to nearest, ties to even; widening is exact (shift left 16), so a kernel
/// that widens in registers computes with exactly the values the f32 copy of a bf16 weight holds.
/// <para>
/// .NET 10 exposes no AVX-512 BF16 class (System.Runtime.Intrinsics.X86 has Avx512F/BW/DQ/Vbmi,
/// Avx10v1/v2, AvxVnni, but no VDPBF16PS), so every CPU widens: load 8 words, zero-extend to 32 bits,
/// shift left 16, fused multiply-add in f32.
/// </para>
/// </summary>
internal static unsafe class Bf16
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

    /// <summary>Rounds <paramref name="values"/> to bfloat16 in place and writes the 16-bit words to <paramref name="words"/>.</summary>
    public static void Narrow(Span<float> values, Span<ushort> words)
    {
        for (int i = 0; i < values.Length; i++)
        {
            ushort w = FromSingle(values[i]);
            words[i] = w;
            values[i] = ToSingle(w);
        }
    }

    /// <summary>8 bfloat16 words at <paramref name="p"/> as f32 (vpmovzxwd, vpslld 16).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load8(ushort* p) =>
        Avx2.ShiftLeftLogical(Avx2.ConvertToVector256Int32(p), 16).AsSingle();
}

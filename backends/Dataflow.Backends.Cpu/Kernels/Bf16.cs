using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Dataflow.Graph.Tensors;

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// bfloat16 as this backend stores weights and caches (<see cref="BFloat16"/>: rounded to nearest, ties to even;
/// widened exactly by a shift left of 16), so a kernel that widens in registers computes with exactly the values
/// the f32 copy of a bf16 weight holds.
/// <para>
/// .NET 10 exposes no AVX-512 BF16 class (System.Runtime.Intrinsics.X86 has Avx512F/BW/DQ/Vbmi,
/// Avx10v1/v2, AvxVnni, but no VDPBF16PS), so every CPU widens: load 8 words, zero-extend to 32 bits,
/// shift left 16, fused multiply-add in f32.
/// </para>
/// </summary>
internal static unsafe class Bf16
{
    /// <summary>Rounds <paramref name="values"/> to bfloat16 in place and writes the 16-bit words to <paramref name="words"/>.</summary>
    public static void Narrow(Span<float> values, Span<ushort> words)
    {
        for (int i = 0; i < values.Length; i++)
        {
            ushort w = BFloat16.FromSingle(values[i]);
            words[i] = w;
            values[i] = BFloat16.ToSingle(w);
        }
    }

    /// <summary>
    /// <paramref name="count"/> values at <paramref name="from"/> rounded to bfloat16 words at <paramref name="into"/>, 16 at a
    /// time: the same words as <see cref="BFloat16.FromSingle"/> (ties to even, NaN quieted), which takes the last few.
    /// </summary>
    public static void Round(float* from, ushort* into, long count)
    {
        long i = 0;
        for (; i + 16 <= count; i += 16)
        {
            var low = Rounded(Vector256.Load((uint*)from + i));
            var high = Rounded(Vector256.Load((uint*)from + i + 8));
            Vector256.Narrow(low, high).Store(into + i);
        }
        for (; i < count; i++) into[i] = BFloat16.FromSingle(from[i]);

        static Vector256<uint> Rounded(Vector256<uint> bits)
        {
            var rounded = (bits + Vector256.Create(0x7FFFu) + ((bits >> 16) & Vector256<uint>.One)) >> 16;
            var nan = ~Vector256.Equals(bits.AsSingle(), bits.AsSingle()).AsUInt32();
            return Vector256.ConditionalSelect(nan, (bits >> 16) | Vector256.Create(0x40u), rounded);
        }
    }

    /// <summary>8 bfloat16 words at <paramref name="p"/> as f32 (vpmovzxwd, vpslld 16).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load8(ushort* p) =>
        Avx2.ShiftLeftLogical(Avx2.ConvertToVector256Int32(p), 16).AsSingle();
}

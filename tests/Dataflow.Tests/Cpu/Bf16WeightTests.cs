using Dataflow.Graph.Tensors;
using Dataflow.Backends.Cpu;
using Dataflow.Backends.Cpu.Kernels;
using Dataflow.Engine.Backends;
using Dataflow.Graph.Ops;
using static Dataflow.Tests.Cpu.CpuHarness;

namespace Dataflow.Tests.Cpu;

/// <summary>bfloat16 weights on the CPU: the conversion (round to nearest even, exact widening) and the matrix product that reads the 16-bit words.</summary>
public class Bf16WeightTests
{
    [Fact]
    public void Every_bf16_value_survives_widening_and_narrowing()
    {
        for (int w = 0; w <= ushort.MaxValue; w++)
        {
            float f = BFloat16.ToSingle((ushort)w);
            if (float.IsNaN(f)) Assert.True(float.IsNaN(BFloat16.ToSingle(BFloat16.FromSingle(f))), $"NaN word {w:X4}");
            else Assert.Equal((ushort)w, BFloat16.FromSingle(f));
        }
    }

    /// <summary>The vector rounding a bf16 cache's store uses gives the scalar rounding's words for every kind of value, whatever the length.</summary>
    [Fact]
    public unsafe void Vector_rounding_gives_the_scalar_words()
    {
        var random = new Random(4);
        // As bits (a float constant may be quieted on the way): ties, the largest finite value, subnormals, infinities, and NaNs
        // with payloads that rounding would carry into the exponent or the sign (0x7FFFFFFF + 0x7FFF overflows).
        uint[] special = [0x0000_0000, 0x8000_0000, 0x3F80_8000, 0x3F81_8000, 0x7F7F_FFFF, 0x0000_0001, 0x8000_8000,
            0x7F80_0000, 0xFF80_0000, 0x7FFF_FFFF, 0xFF81_2345, 0x7F80_0001, 0x7FC0_FFFF];
        foreach (int count in new[] { 1, 15, 16, 17, 48, 100 })
        {
            var bits = Enumerable.Range(0, count).Select(i => i < special.Length && count >= 16 ? special[i] : (uint)random.NextInt64(0, 1L << 32)).ToArray();
            var values = System.Runtime.InteropServices.MemoryMarshal.Cast<uint, float>(bits).ToArray();
            var words = new ushort[count];
            fixed (float* from = values)
            fixed (ushort* into = words)
                Bf16.Round(from, into, count);
            for (int i = 0; i < count; i++)
                Assert.True(BFloat16.FromSingle(values[i]) == words[i], $"count {count}, element {i} ({BitConverter.SingleToUInt32Bits(values[i]):X8}): {words[i]:X4} against {BFloat16.FromSingle(values[i]):X4}");
        }
    }

    [Fact]
    public void Narrowing_rounds_to_nearest_and_ties_to_even()
    {
        // bf16 keeps 7 mantissa bits: around 1 its step is 2⁻⁷.
        Assert.Equal(1f, BFloat16.ToSingle(BFloat16.FromSingle(1f + MathF.Pow(2, -8))));                       // tie, down to even 1.0
        Assert.Equal(1f + MathF.Pow(2, -6), BFloat16.ToSingle(BFloat16.FromSingle(1f + 3 * MathF.Pow(2, -8))));  // tie, up to even
        Assert.Equal(1f + MathF.Pow(2, -7), BFloat16.ToSingle(BFloat16.FromSingle(1f + MathF.Pow(2, -8) + MathF.Pow(2, -20)))); // past the tie: up
        Assert.Equal(-2.5f, BFloat16.ToSingle(BFloat16.FromSingle(-2.5f)));
        Assert.Equal(float.PositiveInfinity, BFloat16.ToSingle(BFloat16.FromSingle(float.PositiveInfinity)));
        Assert.Equal(float.PositiveInfinity, BFloat16.ToSingle(BFloat16.FromSingle(float.MaxValue)));            // beyond the largest bf16 plus half a step
        Assert.True(float.IsNaN(BFloat16.ToSingle(BFloat16.FromSingle(float.NaN))));
        var random = new Random(3);
        for (int i = 0; i < 100_000; i++)
        {
            float x = (random.NextSingle() * 2 - 1) * MathF.Pow(2, random.Next(-60, 60));
            float y = BFloat16.ToSingle(BFloat16.FromSingle(x));
            Assert.True(Math.Abs(y - x) <= Math.Abs(x) * Math.Pow(2, -8), $"{x} -> {y}");
        }
    }

    [Fact]
    public void A_weight_stored_as_bf16_is_rounded_in_place_and_later_uploads_are_rounded_too()
    {
        var backend = new CpuBackend();
        using var buffer = backend.Allocate(3);
        backend.Upload(buffer, [1f + MathF.Pow(2, -9), 0.1f, -3f]);
        backend.KeepDecodeCopy(buffer, WeightStorage.Bf16, 1, 3, readTransposed: false);
        var values = new float[3];
        backend.Download(buffer, values);
        Assert.Equal([1f, BFloat16.ToSingle(BFloat16.FromSingle(0.1f)), -3f], values);
        backend.Upload(buffer, [0.3f], offset: 1);
        backend.Download(buffer, values);
        Assert.Equal(BFloat16.ToSingle(BFloat16.FromSingle(0.3f)), values[1]);
    }

    /// <summary>
    /// Every streamed layout (one row, a few rows, Bᵀ, one column) with tails in k and n: the product over
    /// the bf16 words equals a scalar sum over the widened weights within 1e-6 of the sum of |terms|, and
    /// is read from the words alone (the f32 copy is zeroed before the launch).
    /// </summary>
    [Theory]
    [InlineData(1, 300, 288)]
    [InlineData(1, 37, 1152)]
    [InlineData(1, 3, 5)]
    [InlineData(4, 100, 288)]
    [InlineData(7, 1153, 33)]
    [InlineData(16, 96, 47)]
    [InlineData(13, 1, 65)]
    public void The_bf16_product_matches_a_scalar_sum_over_the_widened_weights(int m, int n, int k)
    {
        foreach (bool transposed in new[] { false, true })
        {
            var a = Random((long)m * k, 3 + m);
            var b = Random((long)k * n, 5 + n);
            var widened = b.Select(x => BFloat16.ToSingle(BFloat16.FromSingle(x))).ToArray();
            var got = MatMulWithBf16Weight(m, n, k, transposed, a, b, zeroTheF32Copy: true);
            AssertNaiveProduct(got, a, widened, m, n, k, transposed, tolerance: 1e-6);
        }
    }

    /// <summary>
    /// Widening is exact, so over the same layout (an f32 decode copy: column by column for x · W, as stored for
    /// x · Wᵀ) the words sum in the f32 kernels' order — 16 rows with 512-bit vectors: bf16 and f32 panels, the same
    /// scalar chain over k — and
    /// the two agree to the bit; the product over the weight as stored (no copy) sums in another order and agrees to rounding.
    /// </summary>
    [Theory]
    [InlineData(1, 864, 288)]
    [InlineData(5, 300, 768)]
    [InlineData(16, 1152, 288)]
    public void The_bf16_product_equals_the_f32_decode_copy_product_of_the_rounded_weights_to_the_bit(int m, int n, int k)
    {
        foreach (bool transposed in new[] { false, true })
        {
            var a = Random((long)m * k, 17);
            var b = Random((long)k * n, 19);
            var rounded = b.Select(x => BFloat16.ToSingle(BFloat16.FromSingle(x))).ToArray();
            var f32Copy = MatMulWithDecodeCopy(m, n, k, transposed, a, rounded, WeightStorage.F32, zeroTheF32Values: true);
            var bf16 = MatMulWithDecodeCopy(m, n, k, transposed, a, b, WeightStorage.Bf16, zeroTheF32Values: false);
            var stored = RunOp(OpCode.MatMul, new OpAttrs { TransposeB = transposed }, [F32(m, k), transposed ? F32(n, k) : F32(k, n)], F32(m, n), [a, rounded]);
            for (int i = 0; i < bf16.Length; i++)
            {
                Assert.True(f32Copy[i] == bf16[i], $"element {i}{(transposed ? " (Bᵀ)" : "")}: f32 copy {f32Copy[i]}, bf16 {bf16[i]}");
                Assert.True(Math.Abs(stored[i] - bf16[i]) <= 1e-5 * Math.Max(1, Math.Abs(stored[i])), $"element {i}{(transposed ? " (Bᵀ)" : "")}: as stored {stored[i]}, bf16 {bf16[i]}");
            }
        }
    }

    /// <summary>An upload into part of a weight with a column-by-column copy reaches the copy: the product reads the new values.</summary>
    [Theory]
    [InlineData(WeightStorage.F32)]
    [InlineData(WeightStorage.Bf16)]
    public void An_upload_into_part_of_a_weight_refreshes_its_decode_copy(WeightStorage storage)
    {
        const int m = 1, n = 96, k = 70;
        var spec = new OpKernelSpec(OpCode.MatMul, new OpAttrs(), [F32(m, k), F32(k, n)], F32(m, n));
        var kernel = Backend.Compile(spec);
        var a = Random(k, 5);
        var b = Random((long)k * n, 7).Select(x => BFloat16.ToSingle(BFloat16.FromSingle(x))).ToArray();
        using var x = Backend.Allocate(k);
        using var w = Backend.Allocate(b.Length);
        using var c = Backend.Allocate(n);
        Backend.Upload(x, a);
        Backend.Upload(w, b);
        Backend.KeepDecodeCopy(w, storage, k, n, readTransposed: false);
        Assert.NotNull(((CpuBuffer)w).Decode);
        // Rows 10–12 and part of row 13 change: 3.5 rows of the storage, scattered over every column of the copy.
        var patch = Random(3 * n + n / 2, 11).Select(v => BFloat16.ToSingle(BFloat16.FromSingle(v))).ToArray();
        Backend.Upload(w, patch, offset: 10 * n);
        patch.CopyTo(b, 10 * n);
        Backend.Enqueue(kernel, [x, w, c], LaunchParams.None);
        var got = new float[n];
        Backend.Download(c, got);
        for (int j = 0; j < n; j++)
        {
            double sum = 0, scale = 0;
            for (int p = 0; p < k; p++) { sum += a[p] * b[p * n + j]; scale += Math.Abs(a[p] * b[p * n + j]); }
            Assert.True(Math.Abs(got[j] - sum) <= 1e-6 * scale, $"column {j}: {got[j]} vs {sum}");
        }
    }

    /// <summary>An f32 copy is dropped (the product reads the weight again, e.g. once the session trains); bf16 words stay, as the values are rounded to them.</summary>
    [Fact]
    public void Dropping_a_decode_copy_frees_an_f32_copy_and_keeps_bf16_words()
    {
        using var f32 = Backend.Allocate(6);
        using var bf16 = Backend.Allocate(6);
        Backend.KeepDecodeCopy(f32, WeightStorage.F32, 2, 3, readTransposed: false);
        Backend.KeepDecodeCopy(bf16, WeightStorage.Bf16, 2, 3, readTransposed: false);
        Backend.DropDecodeCopy(f32);
        Backend.DropDecodeCopy(bf16);
        Assert.Null(((CpuBuffer)f32).Decode);
        Assert.NotNull(((CpuBuffer)bf16).Decode);
        // x · Wᵀ is stored as the streaming products read it: an f32 copy would be the weight again.
        using var tied = Backend.Allocate(6);
        Backend.KeepDecodeCopy(tied, WeightStorage.F32, 2, 3, readTransposed: true);
        Assert.Null(((CpuBuffer)tied).Decode);
    }

    private static float[] MatMulWithBf16Weight(int m, int n, int k, bool transposed, float[] a, float[] b, bool zeroTheF32Copy) =>
        MatMulWithDecodeCopy(m, n, k, transposed, a, b, WeightStorage.Bf16, zeroTheF32Copy);

    /// <param name="zeroTheF32Values">Clear the weight's own values before the launch, so the product must read the copy.</param>
    private static float[] MatMulWithDecodeCopy(int m, int n, int k, bool transposed, float[] a, float[] b, WeightStorage storage, bool zeroTheF32Values)
    {
        var spec = new OpKernelSpec(OpCode.MatMul, new OpAttrs { TransposeB = transposed }, [F32(m, k), transposed ? F32(n, k) : F32(k, n)], F32(m, n));
        var kernel = Backend.Compile(spec);
        using var x = Backend.Allocate(a.Length);
        using var w = Backend.Allocate(b.Length);
        using var c = Backend.Allocate((long)m * n);
        Backend.Upload(x, a);
        Backend.Upload(w, b);
        Backend.Upload(c, Enumerable.Repeat(float.NaN, m * n).ToArray());
        Backend.KeepDecodeCopy(w, storage, transposed ? n : k, transposed ? k : n, transposed);
        if (zeroTheF32Values && ((CpuBuffer)w).Decode is not null) ((CpuBuffer)w).Floats.Clear();
        Backend.Enqueue(kernel, [x, w, c], LaunchParams.None);
        var result = new float[m * n];
        Backend.Download(c, result);
        return result;
    }
}

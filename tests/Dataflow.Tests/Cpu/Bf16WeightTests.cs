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
            float f = Bf16.ToSingle((ushort)w);
            if (float.IsNaN(f)) Assert.True(float.IsNaN(Bf16.ToSingle(Bf16.FromSingle(f))), $"NaN word {w:X4}");
            else Assert.Equal((ushort)w, Bf16.FromSingle(f));
        }
    }

    [Fact]
    public void Narrowing_rounds_to_nearest_and_ties_to_even()
    {
        // bf16 keeps 7 mantissa bits: around 1 its step is 2⁻⁷.
        Assert.Equal(1f, Bf16.ToSingle(Bf16.FromSingle(1f + MathF.Pow(2, -8))));                       // tie, down to even 1.0
        Assert.Equal(1f + MathF.Pow(2, -6), Bf16.ToSingle(Bf16.FromSingle(1f + 3 * MathF.Pow(2, -8))));  // tie, up to even
        Assert.Equal(1f + MathF.Pow(2, -7), Bf16.ToSingle(Bf16.FromSingle(1f + MathF.Pow(2, -8) + MathF.Pow(2, -20)))); // past the tie: up
        Assert.Equal(-2.5f, Bf16.ToSingle(Bf16.FromSingle(-2.5f)));
        Assert.Equal(float.PositiveInfinity, Bf16.ToSingle(Bf16.FromSingle(float.PositiveInfinity)));
        Assert.Equal(float.PositiveInfinity, Bf16.ToSingle(Bf16.FromSingle(float.MaxValue)));            // beyond the largest bf16 plus half a step
        Assert.True(float.IsNaN(Bf16.ToSingle(Bf16.FromSingle(float.NaN))));
        var random = new Random(3);
        for (int i = 0; i < 100_000; i++)
        {
            float x = (random.NextSingle() * 2 - 1) * MathF.Pow(2, random.Next(-60, 60));
            float y = Bf16.ToSingle(Bf16.FromSingle(x));
            Assert.True(Math.Abs(y - x) <= Math.Abs(x) * Math.Pow(2, -8), $"{x} -> {y}");
        }
    }

    [Fact]
    public void A_weight_stored_as_bf16_is_rounded_in_place_and_later_uploads_are_rounded_too()
    {
        var backend = new CpuBackend();
        using var buffer = backend.Allocate(3);
        backend.Upload(buffer, [1f + MathF.Pow(2, -9), 0.1f, -3f]);
        backend.StoreAsBf16(buffer);
        var values = new float[3];
        backend.Download(buffer, values);
        Assert.Equal([1f, Bf16.ToSingle(Bf16.FromSingle(0.1f)), -3f], values);
        backend.Upload(buffer, [0.3f], offset: 1);
        backend.Download(buffer, values);
        Assert.Equal(Bf16.ToSingle(Bf16.FromSingle(0.3f)), values[1]);
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
            var widened = b.Select(x => Bf16.ToSingle(Bf16.FromSingle(x))).ToArray();
            var got = MatMulWithBf16Weight(m, n, k, transposed, a, b, zeroTheF32Copy: true);
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double sum = 0, scale = 0;
                    for (int p = 0; p < k; p++)
                    {
                        double y = transposed ? widened[j * k + p] : widened[p * n + j];
                        sum += a[i * k + p] * y;
                        scale += Math.Abs(a[i * k + p] * y);
                    }
                    Assert.True(Math.Abs(got[i * n + j] - sum) <= 1e-6 * Math.Max(scale, 1e-30), $"[{i},{j}] of [{m},{k}]·[{k},{n}]{(transposed ? " (Bᵀ)" : "")}: {got[i * n + j]} vs {sum}");
                }
        }
    }

    /// <summary>Widening is exact and the loops sum in the f32 kernels' order, so the two agree to the bit.</summary>
    [Theory]
    [InlineData(1, 864, 288)]
    [InlineData(5, 300, 768)]
    public void The_bf16_product_equals_the_f32_product_of_the_rounded_weights_to_the_bit(int m, int n, int k)
    {
        foreach (bool transposed in new[] { false, true })
        {
            var a = Random((long)m * k, 17);
            var b = Random((long)k * n, 19);
            var rounded = b.Select(x => Bf16.ToSingle(Bf16.FromSingle(x))).ToArray();
            var f32 = RunOp(OpCode.MatMul, new OpAttrs { TransposeB = transposed }, [F32(m, k), transposed ? F32(n, k) : F32(k, n)], F32(m, n), [a, rounded]);
            var bf16 = MatMulWithBf16Weight(m, n, k, transposed, a, b, zeroTheF32Copy: false);
            for (int i = 0; i < f32.Length; i++)
                Assert.True(f32[i] == bf16[i], $"element {i}{(transposed ? " (Bᵀ)" : "")}: f32 {f32[i]}, bf16 {bf16[i]}");
        }
    }

    private static float[] MatMulWithBf16Weight(int m, int n, int k, bool transposed, float[] a, float[] b, bool zeroTheF32Copy)
    {
        var spec = new OpKernelSpec(OpCode.MatMul, new OpAttrs { TransposeB = transposed }, [F32(m, k), transposed ? F32(n, k) : F32(k, n)], F32(m, n));
        var kernel = Backend.Compile(spec);
        using var x = Backend.Allocate(a.Length);
        using var w = Backend.Allocate(b.Length);
        using var c = Backend.Allocate((long)m * n);
        Backend.Upload(x, a);
        Backend.Upload(w, b);
        Backend.Upload(c, Enumerable.Repeat(float.NaN, m * n).ToArray());
        Backend.StoreAsBf16(w);
        if (zeroTheF32Copy) ((CpuBuffer)w).Floats.Clear();
        Backend.Enqueue(kernel, [x, w, c], LaunchParams.None);
        var result = new float[m * n];
        Backend.Download(c, result);
        return result;
    }
}

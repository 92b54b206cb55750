using Dataflow.Graph.Tensors;
using Dataflow.Backends.Cpu;
using Dataflow.Backends.Cpu.Kernels;
using Dataflow.Engine.Backends;
using Dataflow.Graph.Ops;
using static Dataflow.Tests.Cpu.CpuHarness;

namespace Dataflow.Tests.Cpu;

/// <summary>
/// A batched decode step's products over an inference weight (f32 or bf16 words) in 16-column panels (<see cref="GemvPanels"/>,
/// where 512-bit vectors run; elsewhere the same checks hold for the paths that take the rows instead).
/// </summary>
public class GemvPanelsTests
{
    [Theory]
    [InlineData(16, 1003, 290)]   // a part last panel, k past whole vectors
    [InlineData(12, 48, 7)]       // rows past 8 but not 16: zero lanes computed, not stored
    [InlineData(8, 200, 65)]      // eight rows: the half kernel
    [InlineData(9, 32, 1)]
    [InlineData(16, 15, 33)]      // one panel, part
    public void Rows_times_a_paneled_weight_match_a_naive_sum(int m, int n, int k)
    {
        foreach (var storage in new[] { WeightStorage.F32, WeightStorage.Bf16 })
        foreach (bool transposed in new[] { false, true })
        {
            var a = Random((long)m * k, 3 + m);
            // bf16: the weight's own values are rounded to its words, so the sum is over the rounded values.
            var b = Random((long)k * n, 5 + n).Select(x => storage == WeightStorage.Bf16 ? BFloat16.ToSingle(BFloat16.FromSingle(x)) : x).ToArray();
            using var weight = DecodeWeight(b, n, k, transposed, storage);
            var got = Product(m, n, k, transposed, a, weight);
            Assert.Equal(GemvPanels.Applies(m), ((CpuBuffer)weight).HasPanels);
            AssertNaiveProduct(got, a, b, m, n, k, transposed);
        }
    }

    /// <summary>bf16 panels widen to the rounded values exactly and sum them in the f32 panels' order: the same bits as f32 panels of the rounded weight.</summary>
    [Fact]
    public void Bf16_panels_give_the_bits_of_f32_panels_of_the_rounded_weight()
    {
        const int m = 13, n = 200, k = 96;
        foreach (bool transposed in new[] { false, true })
        {
            var a = Random((long)m * k, 41);
            var b = Random((long)k * n, 43).Select(x => BFloat16.ToSingle(BFloat16.FromSingle(x))).ToArray();
            using var f32 = DecodeWeight(b, n, k, transposed, WeightStorage.F32);
            using var bf16 = DecodeWeight(b, n, k, transposed, WeightStorage.Bf16);
            var fromFloats = Product(m, n, k, transposed, a, f32);
            var fromWords = Product(m, n, k, transposed, a, bf16);
            for (int i = 0; i < fromFloats.Length; i++)
                Assert.True(fromFloats[i] == fromWords[i], $"element {i}{(transposed ? " (Bᵀ)" : "")}: f32 panels {fromFloats[i]}, bf16 panels {fromWords[i]}");
        }
    }

    /// <summary>Each element is one chain over k whichever kernel (sixteen rows or eight) takes its row: the first eight rows of sixteen get the bits they get alone.</summary>
    [Fact]
    public void A_row_gets_the_same_bits_among_eight_rows_as_among_sixteen()
    {
        const int n = 300, k = 288;
        foreach (bool transposed in new[] { false, true })
        {
            var a = Random(16L * k, 21);
            var b = Random((long)k * n, 23);
            using var weight = DecodeWeight(b, n, k, transposed);
            var sixteen = Product(16, n, k, transposed, a, weight);
            var eight = Product(8, n, k, transposed, a.AsSpan(0, 8 * k).ToArray(), weight);
            for (int i = 0; i < 8 * n; i++)
                Assert.True(sixteen[i] == eight[i], $"element {i}{(transposed ? " (Bᵀ)" : "")}: {sixteen[i]} among 16 rows, {eight[i]} among 8");
        }
    }

    /// <summary>Panels made by one step are dropped when the weight is written, so the next step reads the new values; dropping the decode copy (a session that trains) frees them.</summary>
    [Fact]
    public void An_upload_after_a_step_reaches_the_next_step_and_dropping_the_copy_frees_the_panels()
    {
        const int m = 16, n = 64, k = 40;
        var a = Random((long)m * k, 31);
        var b = Random((long)k * n, 33);
        using var weight = DecodeWeight(b, n, k, transposed: false);
        Product(m, n, k, false, a, weight);
        var patch = Random(3 * n, 35);
        Backend.Upload(weight, patch, offset: 10 * n);
        patch.CopyTo(b, 10 * n);
        AssertNaiveProduct(Product(m, n, k, false, a, weight), a, b, m, n, k, transposed: false);
        Backend.DropDecodeCopy(weight);
        Assert.False(((CpuBuffer)weight).HasPanels);
        AssertNaiveProduct(Product(m, n, k, false, a, weight), a, b, m, n, k, transposed: false);
        Assert.False(((CpuBuffer)weight).HasPanels);
    }

    /// <summary>A weight marked for decoding, as an inference session marks its matrix weights.</summary>
    private static IDeviceBuffer DecodeWeight(float[] b, int n, int k, bool transposed, WeightStorage storage = WeightStorage.F32)
    {
        var w = Backend.Allocate(b.Length);
        Backend.Upload(w, b);
        Backend.KeepDecodeCopy(w, storage, transposed ? n : k, transposed ? k : n, transposed);
        return w;
    }

    private static float[] Product(int m, int n, int k, bool transposed, float[] a, IDeviceBuffer weight)
    {
        var kernel = Backend.Compile(new OpKernelSpec(OpCode.MatMul, new OpAttrs { TransposeB = transposed }, [F32(m, k), transposed ? F32(n, k) : F32(k, n)], F32(m, n)));
        using var x = Backend.Allocate(a.Length);
        using var c = Backend.Allocate((long)m * n);
        Backend.Upload(x, a);
        Backend.Upload(c, Enumerable.Repeat(float.NaN, m * n).ToArray());
        Backend.Enqueue(kernel, [x, weight, c], LaunchParams.None);
        var result = new float[m * n];
        Backend.Download(c, result);
        return result;
    }
}

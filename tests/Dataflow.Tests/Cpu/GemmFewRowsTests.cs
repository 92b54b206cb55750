using Dataflow.Backends.Cpu;
using Dataflow.Backends.Cpu.Kernels;

namespace Dataflow.Tests.Cpu;

/// <summary>
/// The 9–32-row products of a batched decode step called directly, so both tiles run on any machine (the
/// 512-bit one in software where AVX-512 is absent): x · W gives the same bits with either (each element the
/// single row's chunked chain) and agrees with a double-precision sum, and batches read their own operands.
/// </summary>
public unsafe class GemmFewRowsTests
{
    private static readonly GemmMicroKernel[] Tiles = [GemmMicroKernel.Avx2, GemmMicroKernel.Avx512EightRows];

    [Theory]
    [InlineData(9, 64, 288)]
    [InlineData(16, 864, 288)]
    [InlineData(16, 290, 1152)]   // a part panel; k in chunks
    [InlineData(23, 100, 37)]     // part row and column tiles, a short last chunk
    [InlineData(32, 1000, 300)]
    [InlineData(64, 300, 520)]    // a prompt's prefill: as many rows as a long k allows, a part panel
    public void Both_tiles_give_the_same_bits_and_match_a_double_sum(int m, int n, int k)
    {
        var opB = new Gemm.Operand(null, n, 1);
        if (!(System.Runtime.Intrinsics.X86.Avx2.IsSupported && System.Runtime.Intrinsics.X86.Fma.IsSupported)) return;   // the tiles need AVX2 + FMA
        var a = Values(m * k, 1);
        var b = Values(k * n, 2);
        var results = Tiles.Select(tile => Multiply(1, m, n, k, a, b, opB, tile)).ToArray();
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = 0, scale = 0;
                for (int p = 0; p < k; p++)
                {
                    sum += a[i * k + p] * (double)b[p * n + j];
                    scale += Math.Abs(a[i * k + p] * (double)b[p * n + j]);
                }
                string what = $"[{i},{j}] of [{m},{k}]·[{k},{n}]";
                foreach (var (c, tile) in results.Zip(Tiles))
                    Assert.True(Math.Abs(c[i * n + j] - sum) <= 1e-5 * Math.Max(scale, 1e-30), $"{what}, {tile.Name}: {c[i * n + j]} vs {sum}");
                Assert.True(results[0][i * n + j] == results[1][i * n + j], $"{what}: {results[0][i * n + j]} ({Tiles[0].Name}) vs {results[1][i * n + j]} ({Tiles[1].Name})");
            }
    }

    [Theory]
    [InlineData(17, 288, true)]
    [InlineData(32, 288, true)]
    [InlineData(33, 288, false)]   // short k: the packed GEMM
    [InlineData(33, 511, false)]
    [InlineData(33, 512, true)]
    [InlineData(64, 768, true)]
    [InlineData(65, 768, false)]
    [InlineData(16, 768, false)]   // the streamed strips of Gemv
    public void Takes_up_to_32_rows_and_64_with_a_long_k(int m, int k, bool expected)
    {
        if (!(System.Runtime.Intrinsics.X86.Avx2.IsSupported && System.Runtime.Intrinsics.X86.Fma.IsSupported)) return;   // the tiles need AVX2 + FMA
        Assert.Equal(expected, GemmFewRows.Applies(m, 256, k, new Gemm.Operand(null, k, 1), new Gemm.Operand(null, 256, 1)));
    }

    [Fact]
    public void Batches_read_their_own_rows_and_weights()
    {
        const int batch = 3, m = 12, n = 96, k = 40;
        var a = Values(batch * m * k, 3);
        var b = Values(batch * k * n, 4);
        var opB = new Gemm.Operand([2L * k * n, 0, k * n], n, 1);
        var c = Multiply(batch, m, n, k, a, b, opB, GemmFewRows.Kernel, [0, m * k, 2L * m * k]);
        for (int bi = 0; bi < batch; bi++)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double sum = 0, scale = 0;
                    for (int p = 0; p < k; p++)
                    {
                        double x = a[bi * m * k + i * k + p], y = b[opB.Offsets![bi] + p * n + j];
                        (sum, scale) = (sum + x * y, scale + Math.Abs(x * y));
                    }
                    Assert.True(Math.Abs(c[bi * m * n + i * n + j] - sum) <= 1e-5 * scale, $"batch {bi} [{i},{j}]: {c[bi * m * n + i * n + j]} vs {sum}");
                }
    }

    [Theory]
    [InlineData(18, 2)]
    [InlineData(54, 2)]
    [InlineData(2000, 2)]
    [InlineData(5, 4)]
    [InlineData(1, 2)]
    public void Column_tasks_are_whole_panels_with_work_for_every_worker(int panels, int workers)
    {
        int per = GemmFewRows.PanelsPerTask(panels, workers);
        Assert.InRange(per, 1, 8);
        int tasks = (panels + per - 1) / per;
        if (panels >= 2 * workers) Assert.True(tasks >= 2 * workers, $"{panels} panels on {workers} workers: {tasks} tasks of {per}");
    }

    private static float[] Multiply(int batch, int m, int n, int k, float[] a, float[] b, Gemm.Operand opB, GemmMicroKernel tile, long[]? aOffsets = null)
    {
        var c = new float[batch * m * n];
        fixed (float* pa = a, pb = b, pc = c)
            GemmFewRows.Run(batch, m, n, k, pa, new Gemm.Operand(aOffsets, k, 1), pb, opB, null, pc, tile);
        return c;
    }

    private static float[] Values(int count, int seed)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }
}

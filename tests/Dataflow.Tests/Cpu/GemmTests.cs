using Dataflow.Backends.Cpu;
using Dataflow.Backends.Cpu.Kernels;

namespace Dataflow.Tests.Cpu;

/// <summary>
/// The GEMM driver called directly, so both micro-kernels run on any machine (the Vector512 one in
/// software where AVX-512 is absent), with tiny cache blocks that reach every blocking loop and edge
/// tile, transposed operands, and each epilogue, against a double-precision product.
/// </summary>
public unsafe class GemmTests
{
    /// <summary>Error relative to Σ|a·b| over k, as in <see cref="MatMulTests"/>.</summary>
    private const double Tolerance = 1e-5;

    public static TheoryData<string, int, int, int> Cases()
    {
        var data = new TheoryData<string, int, int, int>();
        foreach (var kernel in new[] { "avx512", "avx2" })
        foreach (var (m, n, k) in new[] { (1, 1, 1), (7, 7, 7), (33, 33, 33), (1, 257, 33), (257, 1, 33), (257, 65, 257), (13, 100, 300), (13, 40, 2100) })
            data.Add(kernel, m, n, k);
        return data;
    }

    private static GemmMicroKernel Kernel(string name) => name == "avx512" ? GemmMicroKernel.Avx512 : GemmMicroKernel.Avx2;

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesDoublePrecisionInEveryLayout(string kernel, int m, int n, int k)
    {
        var micro = Kernel(kernel);
        foreach (var ta in new[] { false, true })
        foreach (var tb in new[] { false, true })
        {
            Check(micro, null, m, n, k, ta, tb, GemmCase.Plain);
            // Blocks of two micro-tiles and 16 k steps: every loop of the driver runs several times.
            Check(micro, new GemmBlocking(16, 2 * micro.MR, 2 * micro.NR), m, n, k, ta, tb, GemmCase.Plain);
        }
    }

    [Theory]
    [InlineData("avx512")]
    [InlineData("avx2")]
    public void EpiloguesScaleAddBiasAndAccumulate(string kernel)
    {
        var micro = Kernel(kernel);
        foreach (var epilogue in new[] { GemmCase.Scaled, GemmCase.Bias, GemmCase.Accumulate, GemmCase.All })
        {
            Check(micro, null, 37, 70, 45, false, false, epilogue);
            Check(micro, new GemmBlocking(16, 2 * micro.MR, 2 * micro.NR), 37, 70, 45, true, true, epilogue);
            Check(micro, null, 5, 9, 0, false, false, epilogue); // k = 0: only the epilogue
            Check(micro, null, 9, 20, 1100, false, true, epilogue); // K cut in parts: the epilogue applies once, to the sum
        }
    }

    [Theory]
    [InlineData("avx512")]
    [InlineData("avx2")]
    public void ThreadsSharingOnePackedBAgreeWithOneThread(string kernel)
    {
        var micro = Kernel(kernel);
        // Tall enough for a cut by rows alone, B small: where there are two cores the threads share B.
        Assert.True(Gemm.SharedBRows(1, 1, 300, 70, 90, micro, workers: 2) > 0);
        foreach (var (ta, tb) in new[] { (false, false), (true, true) })
        {
            Check(micro, null, 300, 70, 90, ta, tb, GemmCase.All, serial: true);
            Check(micro, null, 300, 70, 90, ta, tb, GemmCase.All, serial: false);
            Check(micro, new GemmBlocking(16, 2 * micro.MR, 2 * micro.NR), 300, 70, 90, ta, tb, GemmCase.All, serial: false);
        }
    }

    [Fact]
    public void LongKIsCutIntoPartsOnlyWhereItDwarfsMAndN()
    {
        Assert.True(Gemm.KParts(1, 9, 20, 1100) > 1);    // the epilogue case above
        Assert.True(Gemm.KParts(1, 13, 40, 2100) > 1);   // the layout case above
        Assert.Equal(8, Gemm.KParts(1, 256, 768, 50257)); // the GPT-2 logits gradient dh = dL·wte
        Assert.Equal(1, Gemm.KParts(1, 1024, 1024, 1024));
        Assert.Equal(1, Gemm.KParts(1, 128, 512, 768));   // no shape of the baby GPT: its seeded results stay
        Assert.Equal(1, Gemm.KParts(4, 9, 20, 1100));     // batches are parallel enough already
    }

    [Theory]
    [InlineData("avx512")]
    [InlineData("avx2")]
    public void OneThreadAndAllThreadsAgree(string kernel)
    {
        var micro = Kernel(kernel);
        Check(micro, null, 100, 90, 80, false, true, GemmCase.Plain, serial: true);
        Check(micro, null, 100, 90, 80, false, true, GemmCase.Plain, serial: false);
    }

    [Fact]
    public void SteadyStateLaunchAllocatesNothing()
    {
        const int m = 70, n = 90, k = 300;
        var (a, b, c) = (Values(m * k, 1), Values(k * n, 2), new float[m * n]);
        long allocated = -1;
        fixed (float* pa = a, pb = b, pc = c)
        {
            float* pA = pa, pB = pb, pC = pc;
            var opA = new Gemm.Operand(null, k, 1);
            var opB = new Gemm.Operand(null, 1, k);
            // One thread, so the job system's own bookkeeping (outside the GEMM) is not counted.
            Par.Serial(() =>
            {
                Gemm.Run(1, m, n, k, pA, opA, pB, opB, pC); // warm-up: JIT, scratch growth
                long before = GC.GetAllocatedBytesForCurrentThread();
                for (int i = 0; i < 3; i++) Gemm.Run(1, m, n, k, pA, opA, pB, opB, pC);
                allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            });
        }
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void BatchesReadTheirOwnOffsets()
    {
        const int batch = 3, m = 20, n = 35, k = 17;
        var a = Values(batch * m * k, 1);
        var b = Values(batch * k * n, 2);
        var c = new float[batch * m * n];
        var opA = new Gemm.Operand([0, m * k, 2 * m * k], k, 1);
        var opB = new Gemm.Operand([2 * k * n, 0, k * n], n, 1); // batches read B in another order
        fixed (float* pa = a, pb = b, pc = c)
            Gemm.Run(batch, m, n, k, pa, opA, pb, opB, pc, GemmEpilogue.None, GemmMicroKernel.Best);
        for (int bi = 0; bi < batch; bi++)
        {
            var expected = Reference(m, n, k, a.AsSpan((int)opA.Offsets![bi]), opA, b.AsSpan((int)opB.Offsets![bi]), opB);
            AssertClose(expected.Value, expected.Scale, c.AsSpan(bi * m * n, m * n), $"batch {bi}");
        }
    }

    [Fact]
    public void CacheSizesComeFromSysfsWithFallbacks()
    {
        Assert.Equal(32 * 1024, CacheSizes.ParseSize("32K"));
        Assert.Equal(32L * 1024 * 1024, CacheSizes.ParseSize("32M"));
        Assert.Equal(4096, CacheSizes.ParseSize("4096"));
        Assert.Equal(0, CacheSizes.ParseSize("lots"));

        string dir = Path.Combine(Path.GetTempPath(), $"dataflow-cache-{Guid.NewGuid():N}");
        try
        {
            void Index(int i, string level, string type, string size)
            {
                string d = Directory.CreateDirectory(Path.Combine(dir, $"index{i}")).FullName;
                File.WriteAllText(Path.Combine(d, "level"), level + "\n");
                File.WriteAllText(Path.Combine(d, "type"), type + "\n");
                File.WriteAllText(Path.Combine(d, "size"), size + "\n");
            }
            Index(0, "1", "Data", "48K");
            Index(1, "1", "Instruction", "32K");
            Index(2, "2", "Unified", "1024K");
            Index(3, "3", "Unified", "garbage");
            Assert.Equal(new CacheSizes(48 * 1024, 1024 * 1024, CacheSizes.Fallback.L3), CacheSizes.Read(dir));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
        Assert.Equal(CacheSizes.Fallback, CacheSizes.Read(Path.Combine(dir, "missing")));

        var blocking = GemmBlocking.For(GemmMicroKernel.Avx512, new CacheSizes(32 * 1024, 512 * 1024, 32 * 1024 * 1024), workers: 2);
        Assert.Equal(336, blocking.KC);                   // 336 k steps × 12 floats of A ≤ half of L1, a multiple of 16
        Assert.Equal(0, blocking.MC % GemmMicroKernel.Avx512.MR);
        Assert.True(blocking.MC * blocking.KC * 4 <= 256 * 1024);
    }

    private enum GemmCase { Plain, Scaled, Bias, Accumulate, All }

    private static void Check(GemmMicroKernel kernel, GemmBlocking? blocking, int m, int n, int k, bool ta, bool tb, GemmCase kind, bool serial = false)
    {
        var a = Values(m * k, 11 + m);
        var b = Values(k * n, 23 + n);
        var bias = Values(n, 5);
        var initial = Values(m * n, 7);
        var c = (float[])initial.Clone();
        float alpha = kind is GemmCase.Scaled or GemmCase.All ? -0.75f : 1f;
        bool withBias = kind is GemmCase.Bias or GemmCase.All, accumulate = kind is GemmCase.Accumulate or GemmCase.All;
        // A is [M,K] (or [K,M] transposed), B is [K,N] (or [N,K] transposed), as MatMulKernel passes them.
        var opA = ta ? new Gemm.Operand(null, 1, m) : new Gemm.Operand(null, k, 1);
        var opB = tb ? new Gemm.Operand(null, 1, k) : new Gemm.Operand(null, n, 1);
        fixed (float* pa = a, pb = b, pc = c, pbias = bias)
        {
            float* pA = pa, pB = pb, pC = pc, pBias = pbias;
            void Launch() => Gemm.Run(1, m, n, k, pA, opA, pB, opB, pC, new GemmEpilogue(alpha, withBias ? pBias : null, accumulate), kernel, blocking);
            if (serial) Par.Serial(Launch);
            else Launch();
        }

        var (expected, scale) = Reference(m, n, k, a, opA, b, opB);
        for (int i = 0; i < m * n; i++)
        {
            expected[i] = alpha * expected[i] + (withBias ? bias[i % n] : 0) + (accumulate ? initial[i] : 0);
            scale[i] = Math.Abs(alpha) * scale[i] + (withBias ? Math.Abs(bias[i % n]) : 0) + (accumulate ? Math.Abs(initial[i]) : 0);
        }
        AssertClose(expected, scale, c, $"{kernel.Name} {m}x{n}x{k} ta={ta} tb={tb} {kind} blocking={blocking}");
    }

    private static (double[] Value, double[] Scale) Reference(int m, int n, int k, ReadOnlySpan<float> a, Gemm.Operand opA, ReadOnlySpan<float> b, Gemm.Operand opB)
    {
        var value = new double[m * n];
        var scale = new double[m * n];
        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
        {
            double sum = 0, abs = 0;
            for (int p = 0; p < k; p++)
            {
                double x = (double)a[(int)(i * opA.RowStride + p * opA.ColStride)] * b[(int)(p * opB.RowStride + j * opB.ColStride)];
                sum += x;
                abs += Math.Abs(x);
            }
            value[i * n + j] = sum;
            scale[i * n + j] = abs;
        }
        return (value, scale);
    }

    private static void AssertClose(double[] expected, double[] scale, ReadOnlySpan<float> got, string what)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            double error = Math.Abs(got[i] - expected[i]) / Math.Max(scale[i], 1e-30);
            if (!(error <= Tolerance) && Math.Abs(got[i] - expected[i]) > 1e-30)
                Assert.Fail($"{what}: element {i} is {got[i]}, expected {expected[i]} (relative error {error:E2})");
        }
    }

    private static float[] Values(int count, int seed)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = random.NextSingle() * 2 - 1;
        return values;
    }
}

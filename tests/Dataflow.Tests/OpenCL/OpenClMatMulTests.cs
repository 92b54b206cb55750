using Dataflow.Backends.OpenCL;
using Dataflow.Engine.Backends;
using Dataflow.Graph.Ops;
using Xunit.Abstractions;
using static Dataflow.Tests.OpenCL.OpenClFixture;

namespace Dataflow.Tests.OpenCL;

/// <summary>
/// MatMul against the CPU's GEMM on odd sizes, both transposes and broadcast batches, under both
/// kernel plans: local-memory tiles (GPUs) and register blocks (CPUs), whichever device runs the tests.
/// Tolerance: NMSE ≤ 1e-7 and max relative error ≤ 1e-5 (the two sum K products in different
/// orders; the error of a K-term float dot product grows like √K ulps).
/// </summary>
public sealed class OpenClMatMulTests(OpenClFixture fixture, ITestOutputHelper log) : IClassFixture<OpenClFixture>
{
    public static TheoryData<long[], long[], bool, bool, string> Cases()
    {
        var data = new TheoryData<long[], long[], bool, bool, string>();
        foreach (var plan in new[] { "gpu", "cpu" }) AddCases(data, plan);
        // The register blocks' edges: sizes around the 4-row, 16-column and 8-deep blocks.
        foreach (var (m, k, n) in new[] { (4L, 8L, 16L), (5L, 9L, 17L), (3L, 7L, 15L), (8L, 24L, 32L), (7L, 31L, 33L) })
        foreach (var ta in new[] { false, true })
        foreach (var tb in new[] { false, true })
            data.Add(ta ? [k, m] : [m, k], tb ? [n, k] : [k, n], ta, tb, "cpu");
        return data;
    }

    private static void AddCases(TheoryData<long[], long[], bool, bool, string> data, string plan)
    {
        long[][] sizes = [[1, 1, 1], [3, 17, 5], [17, 1, 65], [65, 130, 17], [130, 65, 130], [16, 16, 16], [33, 200, 31]];
        foreach (var s in sizes)
        foreach (var ta in new[] { false, true })
        foreach (var tb in new[] { false, true })
        {
            long m = s[0], k = s[1], n = s[2];
            data.Add(ta ? [k, m] : [m, k], tb ? [n, k] : [k, n], ta, tb, plan);
        }
        // Batches: matching, broadcast on either side, rank 4 with broadcasts on both.
        data.Add([3, 17, 5], [3, 5, 65], false, false, plan);
        data.Add([2, 3, 17, 5], [5, 9], false, false, plan);         // linear layer: shared weight
        data.Add([17, 5], [4, 5, 9], false, false, plan);
        data.Add([2, 1, 17, 5], [1, 3, 9, 5], false, true, plan);
        data.Add([2, 3, 5, 17], [3, 5, 9], true, false, plan);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void AgreesWithCpu(long[] a, long[] b, bool ta, bool tb, string plan)
    {
        long m = ta ? a[^1] : a[^2], n = tb ? b[^2] : b[^1];
        var batchA = a[..^2];
        var batchB = b[..^2];
        int rank = Math.Max(batchA.Length, batchB.Length);
        var batch = new long[rank];
        for (int i = 0; i < rank; i++)
        {
            long da = i - (rank - batchA.Length) >= 0 ? batchA[i - (rank - batchA.Length)] : 1;
            long db = i - (rank - batchB.Length) >= 0 ? batchB[i - (rank - batchB.Length)] : 1;
            batch[i] = Math.Max(da, db);
        }
        long[] outShape = [.. batch, m, n];
        var spec = new OpKernelSpec(OpCode.MatMul, new OpAttrs { TransposeA = ta, TransposeB = tb }, [F32(a), F32(b)], F32(outShape));
        var (cpu, ocl) = fixture.RunBoth(spec, [Random(Elements(a), 11), Random(Elements(b), 12)], [Elements(outShape)], plan: plan);
        ErrorMeasure.AssertClose(cpu[0], ocl[0], 1e-5, $"matmul {spec.Key} ({plan} plan)", log);
    }

    [Fact]
    public void DeviceKindPicksThePlan()
    {
        var spec = new OpKernelSpec(OpCode.MatMul, new OpAttrs(), [F32(128, 784), F32(784, 512)], F32(128, 512));
        var source = ((OpenClKernel)fixture.Backend.Compile(spec)).Source;
        // A CPU driver runs a group as a loop on one thread: barriers there only cost, so its kernels have none.
        bool cpu = fixture.Backend.Device.Kind == "cpu";
        Assert.Equal(!cpu, source.Contains("barrier("));
        Assert.Equal(cpu, source.Contains("vload8"));
        Assert.Same(cpu ? KernelPlan.Cpu : KernelPlan.Gpu, KernelPlan.For(fixture.Backend.Device.Kind));
    }
}

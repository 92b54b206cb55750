using Dataflow.Engine.Backends;
using Dataflow.Graph.Ops;
using Dataflow.Tests.OpenCL;
using Xunit.Abstractions;
using static Dataflow.Tests.Contracts.KernelRunner;

namespace Dataflow.Tests.Contracts;

/// <summary>
/// MatMul on the CPU and on every device backend under each kernel plan (local-memory tiles on GPUs,
/// register blocks on CPU drivers) against the exact product (the graph's double-precision reference,
/// rounded once to float), and the devices against the CPU's GEMM: odd sizes, both transposes,
/// broadcast batches, the register blocks' edges, and a K long enough that a driver with a loop limit
/// (lavapipe) runs it in passes.
/// Tolerance against exact: NMSE ≤ 1e-7 and max relative error (floor 1) ≤ 6e-7·√K
/// (<see cref="ErrorMeasure.SumBound"/>): the error of a K-term float dot product of values in [-1, 1]
/// grows like √K. Measured (max over the cases, every backend alike within a factor 1.5): 2.1e-7 at
/// K = 5, 1.7e-6 at K = 65, 3.3e-6 (cpu) and 2.5e-6 (devices) at K = 130, 4.0e-6 at K = 200; at
/// K = 30000 the CPU 1.2e-6, the devices 7.8e-6 to 8.4e-6 (bound 1.0e-4: long blocked sums grow slower).
/// Against the CPU: ≤ 1e-5, ≤ 1e-4 for K in the tens of thousands (the two sum the products in different orders).
/// </summary>
public sealed class MatMulContractTests(DeviceBackends backends, ITestOutputHelper log) : IClassFixture<DeviceBackends>
{
    private static IEnumerable<object[]> ShapeCases()
    {
        long[][] sizes = [[1, 1, 1], [3, 17, 5], [17, 1, 65], [65, 130, 17], [130, 65, 130], [16, 16, 16], [33, 200, 31],
            // The register blocks' edges: sizes around the 4-row, 16-column and 8-deep blocks.
            [4, 8, 16], [5, 9, 17], [3, 7, 15], [8, 24, 32], [7, 31, 33]];
        foreach (var s in sizes)
        foreach (var ta in new[] { false, true })
        foreach (var tb in new[] { false, true })
        {
            long m = s[0], k = s[1], n = s[2];
            yield return [ta ? new[] { k, m } : new[] { m, k }, tb ? new[] { n, k } : new[] { k, n }, ta, tb];
        }
        // Batches: matching, broadcast on either side, rank 4 with broadcasts on both.
        yield return [new long[] { 3, 17, 5 }, new long[] { 3, 5, 65 }, false, false];
        yield return [new long[] { 2, 3, 17, 5 }, new long[] { 5, 9 }, false, false];        // linear layer: shared weight
        yield return [new long[] { 17, 5 }, new long[] { 4, 5, 9 }, false, false];
        yield return [new long[] { 2, 1, 17, 5 }, new long[] { 1, 3, 9, 5 }, false, true];
        yield return [new long[] { 2, 3, 5, 17 }, new long[] { 3, 5, 9 }, true, false];
        yield return [new long[] { 33, 17 }, new long[] { 17, 65 }, false, false];
        yield return [new long[] { 2, 3, 17, 33 }, new long[] { 17, 9 }, true, false];      // batched, A transposed, B broadcast
        yield return [new long[] { 5, 40 }, new long[] { 3, 5, 70, 40 }, false, true];      // A broadcast, B transposed
        yield return [new long[] { 3, 30_000 }, new long[] { 30_000, 5 }, false, false];    // K long enough for passes under a loop limit
    }

    public static IEnumerable<object[]> Cases => DeviceBackends.Cross(DeviceBackends.Subjects, [.. ShapeCases()]);

    [Theory]
    [MemberData(nameof(Cases))]
    public void AgreesWithCpu(string name, long[] a, long[] b, bool ta, bool tb)
    {
        long m = ta ? a[^1] : a[^2], k = ta ? a[^2] : a[^1], n = tb ? b[^2] : b[^1];
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
        object[] inputs = [Random(Elements(a), 11), Random(Elements(b), 12)];
        var (cpu, device) = backends.RunBoth(name, spec, inputs, [Elements(outShape)]);
        ErrorMeasure.AssertClose(cpu[0], device[0], k >= 10_000 ? 1e-4 : 1e-5, $"matmul {spec.Key} on {name}", log);
        ErrorMeasure.AssertClose(GraphReference.Floats(spec, inputs), device[0], ErrorMeasure.SumBound(k), $"matmul {spec.Key} on {name} vs exact", log);
    }
}

using Dataflow.Runner.Bench;

namespace Dataflow.Tests.Runner;

/// <summary>
/// <c>bench gemm</c>'s measuring loop on tiny shapes: every row carries the fields the JSON promises,
/// and where OpenBLAS is installed its product agrees with ours on the same inputs (the check that
/// the reference was called with the right layout). No speed is asserted.
/// </summary>
public class GemmBenchTests
{
    [Fact]
    public void RowsCarryTheJsonFieldsAndAgreeWithOpenBlas()
    {
        GemmShape[] shapes = [new("plain", 9, 20, 33), new("at", 9, 20, 33, TransposeA: true), new("bt", 9, 20, 33, TransposeB: true), new("batched", 5, 7, 6, Batch: 3)];
        var openBlas = OpenBlas.TryLoad();
        var rows = GemmBench.Run(shapes, [1], new Dictionary<int, double> { [1] = 100.0 }, openBlas, 0.001, _ => { });

        Assert.Equal(shapes.Length, rows.Count);
        foreach (var row in rows)
        {
            Assert.True(row.Gflops > 0);
            var json = GemmBench.Json(row);
            foreach (var key in new[] { "m", "n", "k", "threads", "gflops", "openblas_gflops", "ratio", "of_peak" }) Assert.True(json.ContainsKey(key), key);
            Assert.Equal(row.Shape.M, (int)json["m"]!);
            Assert.Equal(row.Gflops / 100.0, (double)json["of_peak"]!, 12);
            if (openBlas is null)
            {
                Assert.Null(json["openblas_gflops"]);
                Assert.Null(json["ratio"]);
            }
            else
            {
                Assert.True(row.MaxDifference < 1e-4, $"{row.Shape.Name}: ours and OpenBLAS differ by {row.MaxDifference}");
                Assert.Equal(row.Gflops / row.OpenBlasGflops, (double)json["ratio"]!, 12);
            }
        }
    }
}

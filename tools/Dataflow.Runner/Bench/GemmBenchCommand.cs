using System.CommandLine;
using System.Text.Json.Nodes;
using Dataflow.Backends.Cpu;
using Dataflow.Runner.Cli;

namespace Dataflow.Runner.Bench;

/// <summary><c>dataflow bench gemm</c>: the table of <see cref="GemmBench"/>, or one JSON object per row with --json.</summary>
public static class GemmBenchCommand
{
    public static Command Create()
    {
        var seconds = new Option<double>("--seconds") { Description = "Time spent per size, thread count and library", DefaultValueFactory = _ => 0.2 };
        var json = new Option<bool>("--json") { Description = "One JSON object per shape and thread count on stdout, a line each (the table goes to stderr)" };
        var command = new Command("gemm", "GEMM GFLOP/s against OpenBLAS's cblas_sgemm (when installed) and the FMA peak, on 1 and all threads") { seconds, json };
        command.SetAction(r =>
        {
            bool asJson = r.GetValue(json);
            var output = asJson ? Console.Error : Console.Out;
            int[] threadCounts = GemmBench.ThreadCounts();
            var peaks = threadCounts.ToDictionary(t => t, t => FmaPeak.Measure(t));
            var openBlas = OpenBlas.TryLoad();
            output.WriteLine($"kernel: {CpuMatMulBenchmark.KernelName}; FMA peak ({FmaPeak.VectorBits}-bit): " +
                string.Join(", ", threadCounts.Select(t => $"{peaks[t]:F1} GFLOP/s on {t} thread{(t == 1 ? "" : "s")}")));
            output.WriteLine(openBlas is null
                ? "OpenBLAS: not installed (tools/setup installs libopenblas0-pthread); its columns read n/a"
                : $"OpenBLAS: core {openBlas.CoreName}" + (Environment.GetEnvironmentVariable("OPENBLAS_CORETYPE") is { } pinned
                    ? $" (pinned by OPENBLAS_CORETYPE={pinned}; for its best kernels run with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset)" : ""));
            output.WriteLine($"{"shape",-28} {"m",6} {"n",6} {"k",6} {"thr",3} {"GFLOP/s",8} {"OpenBLAS",8} {"ratio",6} {"of peak",7} {"max|Δ|",8}");
            var rows = new JsonArray();
            GemmBench.Run(GemmBench.Shapes, threadCounts, peaks, openBlas, r.GetValue(seconds), row =>
            {
                string shape = row.Shape.Batch > 1 ? $"{row.Shape.Name} ({row.Shape.Batch}×)" : row.Shape.Name;
                output.WriteLine($"{shape,-28} {row.Shape.M,6} {row.Shape.N,6} {row.Shape.K,6} {row.Threads,3} {row.Gflops,8:F1} " +
                    $"{Show(row.OpenBlasGflops, "F1"),8} {Show(row.Ratio, "F2"),6} {row.OfPeak,7:P0} {Show(row.MaxDifference, "E1"),8}");
                rows.Add(GemmBench.Json(row));
            });
            if (asJson)
                foreach (var row in rows) Console.WriteLine(row!.ToJsonString());
            return ExitCodes.Ok;
        });
        return command;
    }

    private static string Show(double value, string format) => double.IsFinite(value) ? value.ToString(format, System.Globalization.CultureInfo.InvariantCulture) : "n/a";
}

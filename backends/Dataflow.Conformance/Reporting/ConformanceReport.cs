using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Dataflow.Conformance.Reporting;

/// <summary>
/// What a conformance run found: every case on every present backend, the backends that were
/// absent (and why), and which catalog ops have cases. <see cref="Format"/> prints it as a table
/// op × backend, then every failure and skip in full.
/// </summary>
public sealed record ConformanceReport(IReadOnlyList<CaseResult> Results, IReadOnlyList<BackendAvailability> Backends, Coverage Coverage)
{
    public int Passed => Results.Count(r => r.Status == CaseStatus.Pass);
    public int Skipped => Results.Count(r => r.Status == CaseStatus.Skip);

    /// <summary>Failed cases, plus expected backends that are absent: either means the build does not conform.</summary>
    public int Failures => Results.Count(r => r.Status == CaseStatus.Fail) + Backends.Count(b => !b.IsPresent && b.Expected);

    public string Format()
    {
        var sb = new StringBuilder();
        var present = Backends.Where(b => b.IsPresent).Select(b => b.Name).ToList();
        const int cell = 40;
        sb.Append($"{"op",-14}");
        foreach (var b in present) sb.Append($" {b,-cell}");
        sb.AppendLine();
        foreach (var op in Results.Select(r => r.Op).Distinct())
        {
            sb.Append($"{op,-14}");
            foreach (var b in present) sb.Append(' ').Append(Cell(Results.Where(r => r.Op == op && r.Backend == b).ToList()).PadRight(cell));
            sb.AppendLine();
        }

        foreach (var r in Results.Where(r => r.Status != CaseStatus.Pass))
            sb.AppendLine().Append(r.Describe());
        if (Results.Any(r => r.Status != CaseStatus.Pass)) sb.AppendLine();

        sb.AppendLine();
        foreach (var b in Backends.Where(b => !b.IsPresent))
            sb.AppendLine($"backend {b.Name}: absent{(b.Expected ? " but expected (FAIL)" : "")}: {b.AbsentReason}");
        sb.AppendLine(Coverage.ToString());
        sb.AppendLine($"{Results.Count} case runs: {Passed} passed, {Results.Count(r => r.Status == CaseStatus.Fail)} failed, {Skipped} skipped");
        return sb.ToString();
    }

    /// <summary>"pass 4/4 nmse 1e-12 rel 3e-06": the worst error over the op's cases on one backend.</summary>
    private static string Cell(IReadOnlyList<CaseResult> results)
    {
        if (results.Count == 0) return "-";
        int failed = results.Count(r => r.Status == CaseStatus.Fail), skipped = results.Count(r => r.Status == CaseStatus.Skip);
        int ran = results.Count - skipped;
        string status = failed > 0 ? $"FAIL {failed}/{ran}" : ran == 0 ? $"skip {skipped}" : $"pass {ran}/{ran}" + (skipped > 0 ? $" skip {skipped}" : "");
        var measured = results.Where(r => r.Status != CaseStatus.Skip).ToList();
        if (measured.Count == 0) return status;
        return $"{status} nmse {Number(measured.Max(r => r.WorstNmse))} rel {Number(measured.Max(r => r.WorstMaxRelError))}";
    }

    private static string Number(double value) => value == 0 ? "0" : value.ToString("0.0e+00", CultureInfo.InvariantCulture);

    public JsonObject ToJson() => new()
    {
        ["passed"] = Passed,
        ["failed"] = Results.Count(r => r.Status == CaseStatus.Fail),
        ["skipped"] = Skipped,
        ["failures"] = Failures,
        ["coverage"] = new JsonObject
        {
            ["ops_in_catalog"] = Coverage.CatalogOps,
            ["ops_with_cases"] = Coverage.CoveredOps,
            ["missing"] = new JsonArray(Coverage.Missing.Select(m => (JsonNode)m).ToArray()),
        },
        ["backends"] = new JsonArray(Backends.Select(b => (JsonNode)new JsonObject
        {
            ["name"] = b.Name, ["present"] = b.IsPresent, ["expected"] = b.Expected, ["absent_reason"] = b.AbsentReason,
        }).ToArray()),
        ["results"] = new JsonArray(Results.Select(r => (JsonNode)new JsonObject
        {
            ["case"] = r.Case,
            ["op"] = r.Op,
            ["backend"] = r.Backend,
            ["status"] = r.Status.ToString().ToLowerInvariant(),
            // JSON has no infinities; a comparison that could not be made is reported as null.
            ["nmse"] = double.IsFinite(r.WorstNmse) ? r.WorstNmse : null,
            ["max_rel_error"] = double.IsFinite(r.WorstMaxRelError) ? r.WorstMaxRelError : null,
            ["failures"] = new JsonArray(r.Failures.Select(f => (JsonNode)f).ToArray()),
            ["skip_reason"] = r.SkipReason,
        }).ToArray()),
    };
}

namespace Dataflow.Conformance.Reporting;

public enum CaseStatus { Pass, Fail, Skip }

/// <summary>One comparison inside a case (an output, in one mode) with its measured error; <see cref="Failure"/> is set when it failed.</summary>
public sealed record CheckResult(string Check, double Nmse, double MaxRelError, string? Failure);

/// <summary>A case on a backend: pass, fail (with every reason) or skip (with the backend's reason), and the worst error measured.</summary>
public sealed record CaseResult(
    string Case,
    string Op,
    string Backend,
    CaseStatus Status,
    double WorstNmse,
    double WorstMaxRelError,
    IReadOnlyList<string> Failures,
    string? SkipReason,
    IReadOnlyList<CheckResult> Checks)
{
    public static CaseResult From(ConformanceCase c, string backend, IReadOnlyList<CheckResult> checks, IReadOnlyList<string> failures)
    {
        var all = failures.Concat(checks.Where(k => k.Failure is not null).Select(k => $"{k.Check}: {k.Failure}")).ToList();
        var measured = checks.Where(k => double.IsFinite(k.Nmse)).ToList();
        return new CaseResult(c.Name, c.Op, backend, all.Count == 0 ? CaseStatus.Pass : CaseStatus.Fail,
            measured.Count == 0 ? 0 : measured.Max(k => k.Nmse),
            measured.Count == 0 ? 0 : measured.Max(k => k.MaxRelError),
            all, null, checks);
    }

    public static CaseResult Skipped(ConformanceCase c, string backend, string reason) =>
        new(c.Name, c.Op, backend, CaseStatus.Skip, 0, 0, [], reason, []);

    /// <summary>Text for an assertion message: every failure, one per line.</summary>
    public string Describe() => Status switch
    {
        CaseStatus.Pass => $"{Case} on {Backend}: pass (nmse {WorstNmse:0.0e+00}, max rel {WorstMaxRelError:0.0e+00})",
        CaseStatus.Skip => $"{Case} on {Backend}: SKIP: {SkipReason}",
        _ => $"{Case} on {Backend}: FAIL\n  " + string.Join("\n  ", Failures),
    };
}

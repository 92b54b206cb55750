using Dataflow.Conformance.Reporting;

namespace Dataflow.Conformance.Harness;

/// <summary>Turns measured errors into pass/fail against a tolerance, and compares whole sets of outputs.</summary>
public static class Checks
{
    public static CheckResult Judge(string check, Comparison c, Tolerance tolerance)
    {
        string? failure = c.Mismatch;
        if (failure is null && !(c.Nmse <= tolerance.Nmse))
            failure = $"nmse {c.Nmse:0.00e+00} > {tolerance.Nmse:0.0e+00}";
        else if (failure is null && !(c.MaxRelError <= tolerance.MaxRelError))
            failure = $"max relative error {c.MaxRelError:0.00e+00} > {tolerance.MaxRelError:0.0e+00}";
        return new CheckResult(check, c.Nmse, c.MaxRelError, failure);
    }

    /// <summary>Every reference output must be present in <paramref name="actual"/> and within tolerance.</summary>
    public static IEnumerable<CheckResult> CompareAll(string mode, IReadOnlyDictionary<string, float[]> actual,
        IReadOnlyDictionary<string, float[]> reference, Func<string, Tolerance> tolerance, Func<string, bool>? include = null)
    {
        foreach (var (name, expected) in reference.OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            if (include is not null && !include(name)) continue;
            if (!actual.TryGetValue(name, out var values))
                yield return new CheckResult($"{mode}: {name}", double.NaN, double.NaN, "the output is missing");
            else
                yield return Judge($"{mode}: {name}", ErrorMetrics.Compare(values, expected), tolerance(name));
        }
    }
}

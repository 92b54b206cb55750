using Dataflow.Conformance.Cases;
using Dataflow.Conformance.Harness;
using Dataflow.Conformance.Reporting;
using Dataflow.Engine.Backends;

namespace Dataflow.Conformance;

/// <summary>
/// The backend conformance suite (ggml's test-backend-ops, for Dataflow): every case on every
/// present backend, op by op and fused, against the CPU backend's op-by-op result, with output
/// sentinels, skips that carry the backend's reason, and fusion's kernel counts pinned.
/// </summary>
public static class ConformanceSuite
{
    public static IReadOnlyList<ConformanceCase> Cases => ConformanceCases.All;

    public static ConformanceCase Case(string name) =>
        Cases.FirstOrDefault(c => c.Name == name) ?? throw new ArgumentException($"no conformance case '{name}'");

    public static ConformanceReport Run(ConformanceFilter filter)
    {
        var unknown = filter.Backend is { } b && !ConformanceBackends.Names.Contains(b, StringComparer.OrdinalIgnoreCase);
        if (unknown) throw new ArgumentException($"unknown backend '{filter.Backend}' (known: {string.Join(", ", ConformanceBackends.Names)})");

        var cases = Cases.Where(filter.Matches).ToList();
        var results = new List<CaseResult>();
        var backends = new List<BackendAvailability>();
        foreach (var name in ConformanceBackends.Names.Where(filter.Matches))
        {
            var backend = ConformanceBackends.Open(name);
            backends.Add(backend);
            if (backend.Backend is null) continue;
            foreach (var c in cases) results.Add(RunCase(c, backend.Name, backend.Backend));
        }
        return new ConformanceReport(results, backends, Coverage.Of(Cases));
    }

    /// <summary>One case on one backend: op by op, then fused, each through the engine and again between sentinels.</summary>
    public static CaseResult RunCase(ConformanceCase c, string backendName, IBackend backend)
    {
        var reference = ReferenceResults.Get(c);
        if (reference.Error is not null) return CaseResult.From(c, backendName, [], [reference.Error]);

        var checks = new List<CheckResult>(reference.DoubleChecks);
        var failures = new List<string>();
        foreach (var fusion in new[] { false, true })
        {
            string mode = fusion ? "fused" : "op-by-op";
            var instance = c.Instantiate();
            ExecutionResult run;
            try
            {
                run = CaseExecution.Run(backend, instance, fusion, withSentinels: true);
            }
            catch (Exception e)
            {
                failures.Add($"{mode}: threw {e.GetType().Name}: {e.Message}");
                continue;
            }
            if (run.SkipReason is not null) return CaseResult.Skipped(c, backendName, run.SkipReason);

            Tolerance tolerance(string name) => Tolerances.For(c, instance.Program.Outputs.GetValueOrDefault(name));
            checks.AddRange(Checks.CompareAll(mode, run.Outputs, reference.Outputs, tolerance));
            if (run.Sentinels is { } sentinels)
            {
                failures.AddRange(sentinels.Faults.Select(f => $"{mode} sentinels: {f}"));
                if (sentinels.OutputsComparable)
                    checks.AddRange(Checks.CompareAll($"{mode} kernels between sentinels", sentinels.Outputs, reference.Outputs, tolerance,
                        include: name => !name.StartsWith(CaseInstance.ParameterAfterStep, StringComparison.Ordinal)));
            }
            if (c.Kernels is { } expected)
            {
                int want = fusion ? expected.FusedOn(backend) : expected.Unfused;
                if (run.Kernels != want) failures.Add($"{mode}: the compile schedule made {run.Kernels} kernels, the case pins {want}");
            }
        }
        return CaseResult.From(c, backendName, checks, failures);
    }
}

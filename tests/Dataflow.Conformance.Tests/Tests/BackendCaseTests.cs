using Dataflow.Conformance.Reporting;

namespace Dataflow.Conformance.Tests;

/// <summary>One test per present backend per case; a backend the machine lacks gets one test that fails only if the backend is expected.</summary>
public sealed class BackendCaseTests
{
    public static TheoryData<string, string> Runs()
    {
        var data = new TheoryData<string, string>();
        foreach (var backend in ConformanceBackends.Names.Where(n => ConformanceBackends.Open(n).IsPresent))
            foreach (var c in ConformanceSuite.Cases.Where(c => c.Op != ConformanceCase.ModelGroup))
                data.Add(backend, c.Name);
        return data;
    }

    public static TheoryData<string> Backends() => [.. ConformanceBackends.Names];

    [SkippableTheory]
    [MemberData(nameof(Runs))]
    public void Case(string backend, string name)
    {
        var result = ConformanceSuite.RunCase(ConformanceSuite.Case(name), backend, ConformanceBackends.Open(backend).Backend!);
        Skip.If(result.Status == CaseStatus.Skip, result.SkipReason);
        Assert.True(result.Status == CaseStatus.Pass, result.Describe());
    }

    [SkippableTheory]
    [MemberData(nameof(Backends))]
    public void BackendIsPresentWhereExpected(string backend)
    {
        var availability = ConformanceBackends.Open(backend);
        Assert.False(availability.Expected && !availability.IsPresent, $"backend {backend} is expected on this machine but absent: {availability.AbsentReason}");
        Skip.If(!availability.IsPresent, $"backend {backend} is absent here (not expected): {availability.AbsentReason}");
    }
}

using Dataflow.Conformance.Reporting;

namespace Dataflow.Conformance.Tests;

/// <summary>
/// Whole models after one training step: logits, loss, every parameter gradient and every updated
/// parameter agree with the CPU reference on every present backend, op by op and fused.
/// </summary>
public sealed class ModelTests
{
    public static TheoryData<string, string> Runs()
    {
        var data = new TheoryData<string, string>();
        foreach (var backend in ConformanceBackends.Names.Where(n => ConformanceBackends.Open(n).IsPresent))
            foreach (var c in ConformanceSuite.Cases.Where(c => c.Op == ConformanceCase.ModelGroup))
                data.Add(backend, c.Name);
        return data;
    }

    [SkippableTheory]
    [MemberData(nameof(Runs))]
    public void OneTrainingStepAgrees(string backend, string name)
    {
        var c = ConformanceSuite.Case(name);
        var result = ConformanceSuite.RunCase(c, backend, ConformanceBackends.Open(backend).Backend!);
        Skip.If(result.Status == CaseStatus.Skip, result.SkipReason);
        Assert.True(result.Status == CaseStatus.Pass, result.Describe());

        // The comparison must have covered the gradients and the step, not just the logits.
        var instance = c.Instantiate();
        foreach (var parameter in instance.Parameters.Keys)
        {
            Assert.Contains(result.Checks, k => k.Check == $"fused: grad:{parameter}");
            Assert.Contains(result.Checks, k => k.Check == $"fused: {CaseInstance.ParameterAfterStep}{parameter}");
        }
        Assert.Contains(result.Checks, k => k.Check == "fused: logits");
    }
}

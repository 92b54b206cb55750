using System.Diagnostics;
using Dataflow.Graph.Dsl;
using static Dataflow.Tests.Dsl.DslTestSupport;

namespace Dataflow.Tests.Dsl;

/// <summary>Huge models are counted at once (count-only lowering) or refused with a diagnostic; counts never wrap.</summary>
public sealed class ModelSizeTests
{
    private static LoadedModel Count(string file, string layers) =>
        ModelLoader.Load(ModelPath(file), new ModelOptions(Overrides: new Dictionary<string, string> { ["layers"] = layers }, Training: false) { CountOnly = true });

    [Fact]
    public void ParameterCountsPast2To63AreAnErrorNamingTheLineAndTheShape()
    {
        var error = Assert.Throws<DfgException>(() =>
            LoadModel("mlp.dfg", overrides: new Dictionary<string, string> { ["hidden"] = "4294967296" }, training: false));
        Assert.Equal(7, error.Diagnostic.Line);
        Assert.Equal("linear: a tensor of shape [4294967296, 2147483648] has more than 2^63 - 1 elements", error.Diagnostic.Message);
    }

    [Fact]
    public void CountOnlyLoweringAgreesWithBuildingEveryCopy()
    {
        var built = LoadModel("gpt.dfg", overrides: new Dictionary<string, string> { ["layers"] = "3" }, training: false).Graph;
        var counted = Count("gpt.dfg", "3").Graph;
        Assert.Equal(built.ParameterCount(), counted.ParameterCount());
        Assert.Equal(built.Parameters.GroupBy(p => p.Category).ToDictionary(g => g.Key, g => g.Sum(p => p.Node.Shape.ElementCount())),
            counted.ParameterCountByCategory());
        Assert.True(counted.Nodes.Count < built.Nodes.Count);
        Assert.Equal(2, Assert.Single(counted.RepeatedCopies).Copies);
    }

    [Fact]
    public void AMillionLayersAreCountedAtOnce()
    {
        long one = Count("gpt.dfg", "1").Graph.ParameterCount(), two = Count("gpt.dfg", "2").Graph.ParameterCount();
        var watch = Stopwatch.StartNew();
        long million = Count("gpt.dfg", "1000000").Graph.ParameterCount();
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"took {watch.Elapsed}");
        Assert.Equal(one + 999_999 * (two - one), million);
    }

    [Fact]
    public void CopiesWhoseParametersPass2To63AreAnError()
    {
        var error = Assert.Throws<DfgException>(() => Count("gpt.dfg", "9000000000000000000"));
        Assert.Contains("make more than 2^63 - 1 parameters", error.Diagnostic.Message);
    }

    [Fact]
    public void BuildingAMillionLayersIsRefusedUpFront()
    {
        var watch = Stopwatch.StartNew();
        var error = Assert.Throws<DfgException>(() =>
            LoadModel("gpt.dfg", overrides: new Dictionary<string, string> { ["layers"] = "1000000" }, training: false));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
        Assert.Contains("are more than one graph may hold", error.Diagnostic.Message);
    }
}

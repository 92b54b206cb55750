using System.Diagnostics;
using static Dataflow.Tests.Dsl.DslTestSupport;

namespace Dataflow.Tests.Dsl;

/// <summary>Runs alone, so other tests on a small machine do not distort the timing.</summary>
[CollectionDefinition(nameof(LoadTimeTests), DisableParallelization = true)]
public sealed class LoadTimeCollection;

[Collection(nameof(LoadTimeTests))]
public class LoadTimeTests
{
    [Fact]
    public void Gpt3_loads_statically_in_well_under_a_second()
    {
        LoadModel("gpt.dfg");    // warm up the JIT so the timing measures loading
        var clock = Stopwatch.StartNew();
        var m = LoadModel("gpt.dfg", preset: "gpt3");
        clock.Stop();
        Assert.True(clock.ElapsedMilliseconds < 1000, $"loading gpt3 took {clock.ElapsedMilliseconds} ms");
        Assert.True(ParameterCount(m) > 170e9);    // shapes only: nothing of that size was allocated
    }
}

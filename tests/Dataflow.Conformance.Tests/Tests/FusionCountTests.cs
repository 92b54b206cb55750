using Dataflow.Backends.Cpu;
using Dataflow.Engine.Compile;
using Dataflow.Engine.Sessions;

namespace Dataflow.Conformance.Tests;

/// <summary>
/// Pins how many kernels the compile schedule makes of the fused-pattern and model cases, with
/// fusion on and off (tinygrad's habit): a fusion regression fails here by name even though the
/// numbers it computes would still be right.
/// </summary>
public sealed class FusionCountTests
{
    public static TheoryData<string> PinnedCases() => [.. ConformanceSuite.Cases.Where(c => c.Kernels is not null).Select(c => c.Name)];

    [Fact]
    public void EveryFusedPatternAndModelPinsItsKernelCounts()
    {
        var unpinned = ConformanceSuite.Cases
            .Where(c => c.Op is ConformanceCase.FusedGroup or ConformanceCase.ModelGroup && c.Kernels is null)
            .Select(c => c.Name)
            .ToList();
        Assert.True(unpinned.Count == 0, "cases without pinned kernel counts: " + string.Join(", ", unpinned));
    }

    [Theory]
    [MemberData(nameof(PinnedCases))]
    public void KernelCountsArePinned(string name)
    {
        var c = ConformanceSuite.Case(name);
        // The CPU runs pattern kernels (layer_norm), so a case with a pattern probe pins its count with the pattern.
        using var cpu = new CpuBackend();
        Assert.Equal((c.Kernels!.FusedOn(cpu), c.Kernels.Unfused), (Count(c, fusion: true), Count(c, fusion: false)));
    }

    private static int Count(ConformanceCase c, bool fusion)
    {
        var instance = c.Instantiate();
        using var session = new Session(new CpuBackend(), seed: 1, new CompileOptions { Fusion = fusion });
        return session.Compile(instance.Program, instance.Bindings).KernelCount;
    }
}

using Dataflow.Backends.Cpu;
using Dataflow.Backends.OpenCL;
using Dataflow.Training;

namespace Dataflow.Tests.Training;

/// <summary><c>--verbose 4</c> as <c>--help</c> promises it: each kernel of the step with its generated source, or the CPU's word that it has none.</summary>
public sealed class VerboseSourceTests
{
    [Fact]
    public void Level_4_prints_the_OpenCL_C_of_every_kernel_of_the_step()
    {
        var observer = new RecordingObserver();
        Trainer.Run(TinyRuns.Plan(new TinyRuns.FixedBatchLoss(), steps: 1, evalEvery: 1) with { Verbose = 4 }, OpenClBackend.Create(), observer);

        string sources = Assert.Single(observer.Messages, m => m.Contains("__kernel", StringComparison.Ordinal));
        Assert.Contains("  k0 ", sources);
        Assert.DoesNotContain("no kernel source", sources);
    }

    [Fact]
    public void Level_4_on_the_CPU_says_it_has_no_generated_source_and_level_3_prints_none()
    {
        var four = new RecordingObserver();
        Trainer.Run(TinyRuns.Plan(new TinyRuns.FixedBatchLoss(), steps: 1, evalEvery: 1) with { Verbose = 4 }, new CpuBackend(), four);
        Assert.Contains(four.Messages, m => m.Contains("generates no kernel source", StringComparison.Ordinal));

        var three = new RecordingObserver();
        Trainer.Run(TinyRuns.Plan(new TinyRuns.FixedBatchLoss(), steps: 1, evalEvery: 1) with { Verbose = 3 }, new CpuBackend(), three);
        Assert.DoesNotContain(three.Messages, m => m.Contains("generates no kernel source", StringComparison.Ordinal));
    }
}

using Dataflow.Engine.Backends;
using static Dataflow.Tests.Cpu.CpuHarness;

namespace Dataflow.Tests.Cpu;

/// <summary>
/// The grouped Adam / AdamW launch (every parameter in one kernel) updates each parameter, and its
/// moments, to the bit as that parameter's own optimizer kernel does, weight decay only where flagged.
/// </summary>
public sealed class OptimizerGroupTests
{
    // Sizes around the vector width and the group's chunk (8192): tails, a chunk edge, several chunks.
    private static readonly long[] Sizes = [3, 8, 129, 8192, 8200, 20000, 1];
    private static readonly bool[] Decays = [false, true, false, true, true, false, true];

    private static float[] Scalars(float weightDecay)
    {
        var s = new float[OptimizerScalars.Count];
        s[OptimizerScalars.LearningRate] = 3e-3f;
        s[OptimizerScalars.Beta1] = 0.9f;
        s[OptimizerScalars.Beta2] = 0.95f;
        s[OptimizerScalars.Epsilon] = 1e-8f;
        s[OptimizerScalars.WeightDecay] = weightDecay;
        s[OptimizerScalars.BiasCorrection1] = 1 - 0.9f * 0.9f * 0.9f;
        s[OptimizerScalars.BiasCorrection2] = 1 - 0.95f * 0.95f * 0.95f;
        s[OptimizerScalars.GradientScale] = 0.7f;
        return s;
    }

    /// <summary>Value, gradient and two moments per parameter, all nonzero so every term of the update counts.</summary>
    private static float[][] State(int seed) =>
    [
        .. Sizes.SelectMany((n, i) => new[]
        {
            TestGraphs.RandomValues(seed + 4 * i, (int)n, -1, 1), TestGraphs.RandomValues(seed + 4 * i + 1, (int)n, -2, 2),
            TestGraphs.RandomValues(seed + 4 * i + 2, (int)n, -0.1, 0.1), TestGraphs.RandomValues(seed + 4 * i + 3, (int)n, 0, 0.05),
        }),
    ];

    private static float[][] Launch(ICompiledKernel kernel, float[][] host, LaunchParams launch)
    {
        var devices = host.Select(h => { var d = Backend.Allocate(h.Length); Backend.Upload(d, h); return d; }).ToArray();
        Backend.Enqueue(kernel, devices, launch);
        return [.. devices.Select(d => { var h = new float[d.Elements]; Backend.Download(d, h); d.Dispose(); return h; })];
    }

    [Theory]
    [InlineData(OptimizerKind.Adam)]
    [InlineData(OptimizerKind.AdamW)]
    public void GroupMatchesEachParameterSOwnKernelBitForBit(OptimizerKind kind)
    {
        var start = State(11);
        var decayed = new LaunchParams(0, Scalars(0.1f));
        var grouped = Launch(Backend.Compile(new OptimizerGroupSpec(kind, [.. Sizes], [.. Decays])), start, decayed);

        var alone = new LaunchParams(0, Scalars(0f));
        for (int p = 0; p < Sizes.Length; p++)
        {
            var own = Launch(Backend.Compile(new OptimizerStepSpec(kind, Sizes[p])), start[(4 * p)..(4 * p + 4)], Decays[p] ? decayed : alone);
            for (int b = 0; b < 4; b++)
            {
                Assert.True(own[b].AsSpan().SequenceEqual(grouped[4 * p + b]), $"parameter {p} ({Sizes[p]}), buffer {b} differs");
                // The value and both moments move; the gradient (buffer 1) is read only.
                Assert.Equal(b != 1, !own[b].AsSpan().SequenceEqual(start[4 * p + b]));
            }
        }
    }

    [Fact]
    public void SgdHasNoGroupedForm() =>
        Assert.False(Backend.SupportsOp(new OptimizerGroupSpec(OptimizerKind.Sgd, [4], [true])).IsSupported);
}

using Dataflow.Engine.Backends;
using Dataflow.Engine.Optim;
using Dataflow.Engine.Sessions;
using Dataflow.Graph.Ops;

namespace Dataflow.Tests.Optim;

public sealed class LearningRateScheduleTests
{
    [Fact]
    public void WarmupCosineRisesLinearlyThenDecaysToTheFloor()
    {
        var s = new WarmupCosineSchedule(Peak: 1e-3, MinLearningRate: 1e-4, WarmupSteps: 10, TotalSteps: 110);
        Assert.Equal(1e-4, s.At(0), 12);
        Assert.Equal(1e-3, s.At(9), 12);
        Assert.Equal(1e-3, s.At(10), 12);
        Assert.Equal(0.55e-3, s.At(60), 12);
        Assert.Equal(1e-4, s.At(110), 12);
        Assert.Equal(1e-4, s.At(500), 12);
    }

    [Fact]
    public void InverseSqrtPeaksAtTheEndOfWarmup()
    {
        var s = new InverseSqrtSchedule(Peak: 1.0, WarmupSteps: 100);
        Assert.Equal(0.5, s.At(49), 12);
        Assert.Equal(1.0, s.At(99), 12);
        Assert.Equal(0.5, s.At(399), 12);
    }

    [Fact]
    public void UnknownScheduleAndOptimizerArgumentsAreNamed()
    {
        Assert.Contains("'cosine_restarts'", Assert.Throws<ArgumentException>(() => LearningRateSchedule.FromArgs("cosine_restarts", 1, 10, new Dictionary<string, double>())).Message);
        Assert.Contains("'betta1'", Assert.Throws<ArgumentException>(() => OptimizerConfig.FromArgs("adam", new Dictionary<string, double> { ["betta1"] = 0.9 })).Message);
        Assert.Equal(OptimizerKind.AdamW, OptimizerConfig.FromArgs("adamw", new Dictionary<string, double>()).Kind);
    }

    [Fact]
    public void InitializersHaveTheirStatistics()
    {
        var random = new Random(5);
        var normal = ParameterInitializer.Create(ParamInit.Normal(0.02), [200, 100], random.NextDouble);
        double mean = normal.Average(v => (double)v);
        double std = Math.Sqrt(normal.Average(v => (v - mean) * (v - mean)));
        Assert.InRange(mean, -0.001, 0.001);
        Assert.InRange(std, 0.019, 0.021);

        var xavier = ParameterInitializer.Create(ParamInit.Xavier, [300, 100], random.NextDouble);
        double limit = Math.Sqrt(6.0 / 400);
        Assert.All(xavier, v => Assert.InRange(v, -limit, limit));
        Assert.True(xavier.Max() > 0.9 * limit && xavier.Min() < -0.9 * limit);

        Assert.All(ParameterInitializer.Create(ParamInit.Ones, [3], random.NextDouble), v => Assert.Equal(1f, v));
        Assert.All(ParameterInitializer.Create(ParamInit.Zeros, [3], random.NextDouble), v => Assert.Equal(0f, v));
    }
}

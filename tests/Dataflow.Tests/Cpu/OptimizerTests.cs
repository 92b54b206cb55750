using Dataflow.Engine.Backends;
using static Dataflow.Tests.Cpu.CpuHarness;

namespace Dataflow.Tests.Cpu;

public class OptimizerTests
{
    private static float[] Scalars(float lr, float b1, float b2, float eps, float wd, float bc1, float bc2, float scale)
    {
        var s = new float[OptimizerScalars.Count];
        s[OptimizerScalars.LearningRate] = lr;
        s[OptimizerScalars.Beta1] = b1;
        s[OptimizerScalars.Beta2] = b2;
        s[OptimizerScalars.Epsilon] = eps;
        s[OptimizerScalars.WeightDecay] = wd;
        s[OptimizerScalars.BiasCorrection1] = bc1;
        s[OptimizerScalars.BiasCorrection2] = bc2;
        s[OptimizerScalars.GradientScale] = scale;
        return s;
    }

    /// <summary>Runs one step and returns the parameter and state buffers after it (the step is in place).</summary>
    private static float[][] Step(OptimizerKind kind, float[] scalars, params float[][] buffers)
    {
        var spec = new OptimizerStepSpec(kind, buffers[0].Length);
        var kernel = Backend.Compile(spec);
        var devices = buffers.Select(b => { var d = Backend.Allocate(b.Length); Backend.Upload(d, b); return d; }).ToArray();
        Backend.Enqueue(kernel, devices, new LaunchParams(0, scalars));
        var result = devices.Select(d => { var h = new float[d.Elements]; Backend.Download(d, h); d.Dispose(); return h; }).ToArray();
        return result;
    }

    [Fact]
    public void SgdWithoutMomentumHandComputed()
    {
        // p = 1, g = 2, scale 0.5, wd 0.1, lr 0.1: p - 0.1 * (1 + 0.1) = 0.89
        var r = Step(OptimizerKind.Sgd, Scalars(0.1f, 0, 0, 0, 0.1f, 1, 1, 0.5f), [1f, -2f, 0f], [2f, 4f, 1f]);
        Assert.Equal(0.89f, r[0][0], 1e-6f);
        Assert.Equal(-2f - 0.1f * (2f - 0.2f), r[0][1], 1e-6f);
        Assert.Equal(-0.05f, r[0][2], 1e-6f);
    }

    [Fact]
    public void SgdWithMomentumHandComputed()
    {
        // v = 0.9*0.5 + 2 + 0.01*1 = 2.46; p = 1 - 0.1*2.46 = 0.754
        var r = Step(OptimizerKind.Sgd, Scalars(0.1f, 0.9f, 0, 0, 0.01f, 1, 1, 1f), [1f], [2f], [0.5f]);
        Assert.Equal(0.754f, r[0][0], 1e-6f);
        Assert.Equal(2.46f, r[2][0], 1e-6f);
    }

    [Fact]
    public void AdamFirstStepHandComputed()
    {
        // g' = 0.2 + 0.5*1 = 0.7 (L2); m = 0.1*0.7 = 0.07; v = 0.001*0.49 = 0.00049;
        // m̂ = 0.7, v̂ = 0.49, p = 1 - 0.01 * 0.7 / (0.7 + 1e-8)
        var r = Step(OptimizerKind.Adam, Scalars(0.01f, 0.9f, 0.999f, 1e-8f, 0.5f, 0.1f, 0.001f, 1f), [1f], [0.2f], [0f], [0f]);
        Assert.Equal(0.99f, r[0][0], 1e-6f);
        Assert.Equal(0.07f, r[2][0], 1e-7f);
        Assert.Equal(0.00049f, r[3][0], 1e-8f);
    }

    [Fact]
    public void AdamWDecouplesDecayHandComputed()
    {
        // p = 2 - 0.01*0.5*2 = 1.99 first; g = 0.2*2 (scale) = 0.4; m = 0.04, v = 0.00016;
        // m̂ = 0.4, v̂ = 0.16; p = 1.99 - 0.01 * 0.4 / (0.4 + 1e-8) = 1.98
        var r = Step(OptimizerKind.AdamW, Scalars(0.01f, 0.9f, 0.999f, 1e-8f, 0.5f, 0.1f, 0.001f, 2f), [2f], [0.2f], [0f], [0f]);
        Assert.Equal(1.98f, r[0][0], 1e-6f);
        Assert.Equal(0.04f, r[2][0], 1e-7f);
        Assert.Equal(0.00016f, r[3][0], 1e-8f);
    }

    [Theory]
    [InlineData(OptimizerKind.Adam)]
    [InlineData(OptimizerKind.AdamW)]
    public void AdamVectorAndTailMatchScalarFormula(OptimizerKind kind)
    {
        const int n = 1037; // vector body, tail, several tasks
        var p = Random(n, 1); var g = Random(n, 2); var m = Random(n, 3, 0.1f); var v = Random(n, 4).Select(x => x * x).ToArray();
        float lr = 3e-4f, b1 = 0.9f, b2 = 0.95f, eps = 1e-8f, wd = 0.1f, bc1 = 1 - MathF.Pow(b1, 5), bc2 = 1 - MathF.Pow(b2, 5), scale = 0.7f;
        var r = Step(kind, Scalars(lr, b1, b2, eps, wd, bc1, bc2, scale), p, g, m, v);
        for (int i = 0; i < n; i++)
        {
            double pi = p[i], gi = g[i] * scale;
            if (kind == OptimizerKind.Adam) gi += wd * pi;
            else pi -= lr * wd * pi;
            double mi = b1 * m[i] + (1 - b1) * gi, vi = b2 * v[i] + (1 - b2) * gi * gi;
            pi -= lr * (mi / bc1) / (Math.Sqrt(vi / bc2) + eps);
            Assert.Equal(pi, r[0][i], 1e-6);
            Assert.Equal(mi, r[2][i], 1e-6);
            Assert.Equal(vi, r[3][i], 1e-6);
        }
    }
}

using Dataflow.Graph.Ops;

namespace Dataflow.Engine.Sessions;

/// <summary>Draws a parameter's first values. Takes a uniform [0, 1) source so runs are reproducible from a seed.</summary>
public static class ParameterInitializer
{
    public static float[] Create(ParamInit init, long[] shape, Func<double> uniform)
    {
        long count = shape.Aggregate(1L, (a, b) => a * b);
        var values = new float[count];
        switch (init.Kind)
        {
            case ParamInitKind.Zeros:
                break;
            case ParamInitKind.Ones:
                Array.Fill(values, 1f);
                break;
            case ParamInitKind.Normal:
                for (long i = 0; i < count; i++) values[i] = (float)(init.Std * StandardNormal(uniform));
                break;
            case ParamInitKind.Xavier:
                var (fanIn, fanOut) = Fans(shape);
                double limit = Math.Sqrt(6.0 / (fanIn + fanOut));
                for (long i = 0; i < count; i++) values[i] = (float)((uniform() * 2 - 1) * limit);
                break;
            case ParamInitKind.KaimingUniform:
                double bound = 1 / Math.Sqrt(Fans(shape).FanIn);
                for (long i = 0; i < count; i++) values[i] = (float)((uniform() * 2 - 1) * bound);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(init), init.Kind, "unknown initializer");
        }
        return values;
    }

    /// <summary>Fan-in and fan-out of a weight stored [.., in, out]; a vector counts as fan-in = fan-out = its length.</summary>
    public static (long FanIn, long FanOut) Fans(long[] shape) => shape.Length switch
    {
        0 => (1, 1),
        1 => (shape[0], shape[0]),
        _ => (shape[^2] * shape[..^2].Aggregate(1L, (a, b) => a * b), shape[^1]),
    };

    private static double StandardNormal(Func<double> uniform)
    {
        // Box–Muller; 1 - u keeps the logarithm finite.
        double u1 = 1.0 - uniform(), u2 = uniform();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}

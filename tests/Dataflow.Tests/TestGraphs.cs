using Dataflow.Backends.Cpu;
using Dataflow.Engine.Sessions;
using Dataflow.Graph.Ir;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;

namespace Dataflow.Tests;

/// <summary>Helpers for tests that build small graphs by hand and run them on the CPU backend.</summary>
internal static class TestGraphs
{
    public static float[] RandomValues(int seed, long count, double low = -1, double high = 1)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (long i = 0; i < count; i++) values[i] = (float)(low + (high - low) * random.NextDouble());
        return values;
    }

    public static long Elements(Shape shape) => shape.ToConcrete().Aggregate(1L, (a, b) => a * b);

    /// <summary>A session on the CPU backend with fixed values for every parameter of <paramref name="graph"/>.</summary>
    public static Session SessionWith(ComputeGraph graph, IReadOnlyDictionary<string, float[]> values)
    {
        var session = new Session(new CpuBackend(), seed: 1);
        session.DeclareParameters(graph);
        foreach (var (name, data) in values)
            session.Parameters.Write(session.Parameters.Get(name).Value, data);
        return session;
    }

    public static Node Param(GraphBuilder b, string name, params long[] shape) =>
        b.Parameter(name, Shape.Of(shape), ParamInit.Zeros);
}

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

    /// <summary>
    /// Logistic regression from primitives (matmul, broadcast add, softmax reductions, one-hot,
    /// mean): inputs x f32[B, features] and label i32[B], output logits, loss the mean cross-entropy.
    /// </summary>
    public static ComputeGraph Classifier(int features, int classes)
    {
        var graph = new ComputeGraph("logreg");
        var b = new GraphBuilder(graph);
        var x = b.Input("x", TensorType.F32(Dim.Symbol("B"), features));
        var label = b.Input("label", TensorType.I32(Dim.Symbol("B")));
        var w = b.Parameter("w", Shape.Of(features, classes), ParamInit.Xavier);
        var bias = b.Parameter("b", Shape.Of(classes), ParamInit.Zeros);
        var logits = b.Add(b.MatMul(x, w), bias);
        var max = b.Detach(b.ReduceMax(logits, [-1], keepDims: true));
        var shifted = b.Sub(logits, max);
        var logProbs = b.Sub(shifted, b.Log(b.ReduceSum(b.Exp(shifted), [-1], keepDims: true)));
        var picked = b.ReduceSum(b.Mul(logProbs, b.OneHot(label, classes)), [-1]);
        graph.Loss = b.Neg(b.ReduceMean(picked, [0]));
        graph.SetOutput("logits", logits);
        return graph;
    }
}

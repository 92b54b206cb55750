using Dataflow.Backends.Cpu;
using Dataflow.Engine.Compile;
using Dataflow.Engine.Sessions;
using Dataflow.Graph.Ir;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;

namespace Dataflow.Tests.Engine;

/// <summary>The diagnostic pass names the first kernel whose output went non-finite, or the parameter or input that already was.</summary>
public sealed class NonFiniteDiagnosisTests
{
    /// <summary>loss = Σ log(1 + exp(w · x)) over x f32[4], in scope "head": exp overflows once w·x passes 88.</summary>
    private static ComputeGraph Graph()
    {
        var graph = new ComputeGraph("overflow");
        var b = new GraphBuilder(graph);
        var x = b.Input("x", TensorType.F32(4));
        var w = b.Parameter("w", Shape.Of(4), ParamInit.Zeros);
        using (b.Scope("head"))
        {
            var e = b.Exp(b.Mul(w, x));
            var soft = b.Log(b.Add(b.Scalar(1), e));
            graph.SetOutput("y", soft);
            graph.Loss = b.ReduceSum(soft, [0]);
        }
        return graph;
    }

    private static (NonFiniteSource? Source, float Loss) Diagnose(float[] w, float[] x, bool fusion = true)
    {
        var graph = Graph();
        using var session = new Session(new CpuBackend(), seed: 1, new CompileOptions { Fusion = fusion });
        session.DeclareParameters(graph);
        session.Parameters.Write(session.Parameters.Get("w").Value, w);
        var compiled = session.Compile(StepGraph.ForTraining(graph, withGradNorm: false), new Dictionary<string, long>());
        var feeds = new Dictionary<string, Array> { ["x"] = x };
        var loss = session.Run(compiled, feeds).Results[StepGraph.LossOutput][0];
        return (NonFiniteDiagnosis.Find(session, compiled, feeds), loss);
    }

    [Fact]
    public void TheKernelThatOverflowsFromFiniteInputsIsNamed()
    {
        var (source, loss) = Diagnose([1, 1, 1, 1], [1, 2, 100, 3]);
        Assert.False(float.IsFinite(loss));
        Assert.NotNull(source);
        Assert.Equal(NonFiniteSource.Origin.Kernel, source.Kind);
        Assert.Matches(@"^kernel k\d+ \(.+ in head\) produced \+inf from finite inputs \(first at element 2\)$", source.Description);
        Assert.Equal("kernel k0 (fused[mul exp add log] in head) produced +inf from finite inputs (first at element 2)", source.Description);
        Assert.Equal(2, source.Index);
    }

    [Fact]
    public void WithoutFusionTheSingleOpIsNamed()
    {
        var (source, _) = Diagnose([1, 1, 1, 1], [1, 2, 100, 3], fusion: false);
        Assert.Matches(@"^kernel k\d+ \(fused\[exp\] in head\) produced \+inf from finite inputs \(first at element 2\)$", source!.Description);
    }

    [Fact]
    public void ANonFiniteParameterOrInputIsTheCauseItself()
    {
        var (parameter, _) = Diagnose([1, float.NaN, 1, 1], [1, 2, 3, 4]);
        Assert.Equal("parameter 'w' holds NaN at index 1", parameter!.Description);
        var (input, _) = Diagnose([1, 1, 1, 1], [1, 2, float.NegativeInfinity, 4]);
        Assert.Equal("input 'x' holds -inf at index 2", input!.Description);
    }

    [Fact]
    public void AFiniteStepHasNoSource()
    {
        var (source, loss) = Diagnose([1, 1, 1, 1], [1, 2, 3, 4]);
        Assert.True(float.IsFinite(loss));
        Assert.Null(source);
    }
}

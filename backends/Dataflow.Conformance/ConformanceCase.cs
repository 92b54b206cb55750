using Dataflow.Engine.Sessions;

namespace Dataflow.Conformance;

/// <summary>Kernels the compile schedule must produce for a case, with fusion on and off.</summary>
public sealed record KernelCounts(int Fused, int Unfused)
{
    /// <summary>
    /// A pattern kernel (such as layer_norm) that fusion hands only to backends supporting it; on those,
    /// fusion must make <see cref="FusedWithPattern"/> kernels instead of <see cref="Fused"/>.
    /// </summary>
    public Engine.Backends.KernelSpec? PatternProbe { get; init; }

    public int FusedWithPattern { get; init; }

    public int FusedOn(Engine.Backends.IBackend backend) =>
        PatternProbe is { } probe && backend.SupportsOp(probe).IsSupported ? FusedWithPattern : Fused;
}

/// <summary>
/// One conformance case: a small graph built with the <see cref="Graph.Ir.GraphBuilder"/> around
/// the op under test, with deterministic values. <see cref="Op"/> is the catalog name of the op it
/// covers, or a group name (<c>fused</c>, <c>model</c>) for cases that exercise several.
/// </summary>
public sealed record ConformanceCase(string Name, string Op, Action<CaseBuilder> Build)
{
    public const string FusedGroup = "fused";
    public const string ModelGroup = "model";

    /// <summary>Take one optimizer step (Adam) and also compare the parameters after it.</summary>
    public bool Train { get; init; }

    /// <summary>When set, a fusion change that alters these counts fails the case loudly.</summary>
    public KernelCounts? Kernels { get; init; }

    /// <summary>
    /// Also check the CPU reference against the double-precision <see cref="Graph.Evaluation.ReferenceEvaluator"/> (off only where a
    /// value cannot be recomputed on the host, such as a dropout mask drawn with the step's seed).
    /// </summary>
    public bool CheckReferenceInDouble { get; init; } = true;

    /// <summary>A fresh graph and values: autodiff appends to the graph, so every run builds its own.</summary>
    public CaseInstance Instantiate()
    {
        var builder = new CaseBuilder(Name);
        Build(builder);
        var graph = builder.Graph;
        StepGraph program;
        if (graph.Loss is null) program = StepGraph.ForwardOnly(graph);
        else program = StepGraph.ForTraining(graph, withGradNorm: false).WithGradientOutputs();
        return new CaseInstance(this, graph, program, builder.Bindings, builder.Inputs, builder.Parameters);
    }

    /// <summary>The forward graph alone (no autodiff), for coverage and inspection.</summary>
    public Graph.Ir.ComputeGraph BuildGraph()
    {
        var builder = new CaseBuilder(Name);
        Build(builder);
        return builder.Graph;
    }

    public override string ToString() => Name;
}

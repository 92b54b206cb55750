using Dataflow.Engine.Sessions;
using Dataflow.Graph.Ir;

namespace Dataflow.Conformance;

/// <summary>A case made concrete: the compiled program's graph and every value it reads.</summary>
public sealed record CaseInstance(
    ConformanceCase Case,
    ComputeGraph Graph,
    StepGraph Program,
    IReadOnlyDictionary<string, long> Bindings,
    IReadOnlyDictionary<string, Array> Inputs,
    IReadOnlyDictionary<string, float[]> Parameters)
{
    /// <summary>Result name prefix for a parameter's value after a training step.</summary>
    public const string ParameterAfterStep = "param:";
}

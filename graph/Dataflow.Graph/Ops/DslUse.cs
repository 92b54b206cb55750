namespace Dataflow.Graph.Ops;

/// <summary>How a model file may name a primitive op under its catalog name (graph/README.md, "Layers and functions").</summary>
public enum DslUse : byte
{
    /// <summary>Not by name: the op is reached through layers and operators only.</summary>
    None,

    /// <summary>As a function of one tensor or number: <c>sqrt(x)</c>.</summary>
    Function,

    /// <summary>As a function, and as a layer's activation: <c>mlp(x, hidden, act = silu)</c>.</summary>
    Activation,
}

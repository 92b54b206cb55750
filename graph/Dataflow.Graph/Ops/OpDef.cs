using Dataflow.Graph.Ir;
using Dataflow.Graph.Tensors;

namespace Dataflow.Graph.Ops;

/// <summary>Computes an op's result type from its input types and attributes, or throws <see cref="ShapeException"/>.</summary>
public delegate TensorType TypeRule(IReadOnlyList<TensorType> inputs, OpAttrs attrs);

/// <summary>
/// Builds the gradients of an op's inputs from the gradient of its output, as more graph.
/// Returns one entry per input; null where the input gets no gradient (integers, masks).
/// </summary>
public delegate Node?[] GradientRule(GraphBuilder builder, Node node, Node outputGradient);

/// <summary>Everything about a primitive op that is not device code.</summary>
public sealed record OpDef(OpCode Code, string Name, int Arity, OpKind Kind, TypeRule InferType, GradientRule? Gradient)
{
    public bool IsElementwise => Kind == OpKind.Elementwise;
}

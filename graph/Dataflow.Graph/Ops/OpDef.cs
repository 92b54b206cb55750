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

/// <summary>
/// What an elementwise op computes on one element, in double precision: <paramref name="b"/> is 0
/// for a unary op, <paramref name="result"/> the output's dtype (a cast to i32 truncates). Every
/// reference evaluation and the CPU's scalar path use it, so an op's meaning is written once.
/// </summary>
public delegate double ScalarRule(double a, double b, DType result);

/// <summary>Everything about a primitive op that is not device code.</summary>
public sealed record OpDef(OpCode Code, string Name, int Arity, OpKind Kind, TypeRule InferType, GradientRule? Gradient)
{
    public bool IsElementwise => Kind == OpKind.Elementwise;

    /// <summary>The op on one element; set for every elementwise op, null for the others.</summary>
    public ScalarRule? Scalar { get; init; }

    /// <summary>
    /// d op(x)/dx on one element, for differentiable unary elementwise ops: the scalar statement of
    /// what <see cref="Gradient"/> builds as graph, so a test can hold the two against each other.
    /// </summary>
    public Func<double, double>? Derivative { get; init; }

    /// <summary>
    /// One domain per operand, for elementwise ops on f32 operands: where tests sample them. Null for
    /// the other ops and for cast, whose operand's dtype comes from its attribute.
    /// </summary>
    public IReadOnlyList<OperandDomain>? Domains { get; init; }

    /// <summary>
    /// A differentiable elementwise op on f32 operands with no attribute: what the conformance suite and
    /// the gradient checks cover from <see cref="Domains"/> alone. The rest (comparisons, cast, detach)
    /// have cases written out.
    /// </summary>
    public bool IsDifferentiableElementwise => Domains is not null && Gradient is not null;

    /// <summary>Whether a model file may call the op by its name (<see cref="Name"/>), and as what.</summary>
    public DslUse Dsl { get; init; }

    /// <summary>The op on one element (<see cref="Scalar"/>), or an error naming an op that is not elementwise.</summary>
    public double Apply(double a, double b, DType result) =>
        Scalar is { } rule ? rule(a, b, result) : throw new NotSupportedException($"{Name} has no scalar semantics: it is not elementwise");
}

using Dataflow.Graph.Ir;
using Dataflow.Graph.Tensors;

namespace Dataflow.Graph.Dsl;

// What an expression evaluates to while a model is lowered.

public abstract record Value
{
    /// <summary>How the value is described in diagnostics ("a number", "a tensor f32[B, 10]").</summary>
    public abstract string Describe();
}

public sealed record NumberValue(double Number) : Value
{
    public override string Describe() => $"the number {Number.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
}

public sealed record BoolValue(bool Flag) : Value
{
    public override string Describe() => Flag ? "true" : "false";
}

public sealed record TensorValue(Node Node) : Value
{
    public override string Describe() => $"a tensor {Node.Type}";
}

/// <summary>A bare identifier that names nothing: an enum-like argument (<c>learned</c>, <c>gelu</c>, <c>none</c>), or a typo.</summary>
public sealed record SymbolValue(string Name, Loc Loc) : Value
{
    public override string Describe() => $"the bare name '{Name}'";
}

/// <summary>A bracketed list of dimensions (shapes, permutations, axes).</summary>
public sealed record ListValue(IReadOnlyList<Dim> Items) : Value
{
    public override string Describe() => "a list [" + string.Join(", ", Items) + "]";
}

/// <summary>A block definition, passed by name to <c>repeat</c>.</summary>
public sealed record BlockValue(BlockStmt Block) : Value
{
    public override string Describe() => $"the block '{Block.Name}'";
}

/// <summary>
/// A layer object with its own parameters (<c>wte = embedding(vocab, d)</c>): calling it applies the
/// layer, and passing it (<c>tied = wte</c>) shares its parameters.
/// </summary>
public abstract record LayerObject(string Name, string Kind) : Value
{
    /// <summary>The arguments of an application, as for <see cref="LayerDef.Signature"/>.</summary>
    public abstract string[] Signature { get; }

    public abstract Value Apply(CallArgs args, LowerContext context);

    /// <summary>Parameters made when the object was created, reported with its first application's layer info.</summary>
    public long UnreportedParameters { get; set; }

    public long TakeUnreportedParameters()
    {
        var count = UnreportedParameters;
        UnreportedParameters = 0;
        return count;
    }

    public override string Describe() => $"the {Kind} layer '{Name}'";
}

/// <summary>
/// A tensor whose sequence length is not known yet (<c>positions(learned, ctx, d)</c>): it is built
/// when it meets a tensor of shape [..., T, d] in arithmetic, taking T from that tensor.
/// </summary>
public sealed record DeferredTensor(string Kind, Func<Dim, Node> Build) : Value
{
    public override string Describe() => $"{Kind}(...) without a length";
}

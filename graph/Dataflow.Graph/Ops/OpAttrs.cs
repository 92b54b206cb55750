using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using Dataflow.Graph.Tensors;

namespace Dataflow.Graph.Ops;

/// <summary>
/// Attributes of a node. One record for all ops keeps the IR uniform (every pass reads the same
/// structure); each op uses only the fields its catalog entry names.
/// </summary>
public sealed record OpAttrs
{
    public static readonly OpAttrs None = new();

    /// <summary>Constant: the scalar value. DropoutMask: the drop probability.</summary>
    public double Value { get; init; }

    /// <summary>Constant: a whole tensor's data (row-major), when not a scalar.</summary>
    public float[]? Data { get; init; }

    /// <summary>Reductions: the axes, already normalised to be non-negative.</summary>
    public ImmutableArray<int> Axes { get; init; } = ImmutableArray<int>.Empty;

    public bool KeepDims { get; init; }

    /// <summary>Input, Constant, Reshape, Expand, DropoutMask: the result shape.</summary>
    public Shape? Shape { get; init; }

    public ImmutableArray<int> Perm { get; init; } = ImmutableArray<int>.Empty;

    public bool TransposeA { get; init; }
    public bool TransposeB { get; init; }

    /// <summary>Iota: length. CausalMask: sequence length. OneHot: depth. ScatterAdd: rows. Constant: a dimension whose value it holds.</summary>
    public Dim? Count { get; init; }

    /// <summary>Input and Cast: the element type.</summary>
    public DType DType { get; init; }

    /// <summary>
    /// Input: a state tensor (a key/value cache): never fed, its buffer belongs to the session and
    /// keeps its contents from one step to the next (zeros at first use); graphs write it in place with store_rows.
    /// </summary>
    public bool Persistent { get; init; }

    /// <summary>Input and Parameter: the name users see.</summary>
    public string? Name { get; init; }

    public ParamInit? Init { get; init; }

    /// <summary>A canonical text form used to hash kernels and to print graphs.</summary>
    public string Describe()
    {
        var sb = new StringBuilder();
        void Field(string name, object? value) { if (sb.Length > 0) sb.Append(", "); sb.Append(name).Append('=').Append(value); }
        if (Name is not null) Field("name", Name);
        if (Value != 0) Field("value", Value.ToString("R", CultureInfo.InvariantCulture));
        if (Data is not null) Field("data", $"<{Data.Length} values, hash {DataHash(Data):x8}>");
        if (!Axes.IsEmpty) Field("axes", "[" + string.Join(",", Axes) + "]");
        if (KeepDims) Field("keepdims", true);
        if (Persistent) Field("persistent", true);
        if (Shape is not null) Field("shape", Shape);
        if (!Perm.IsEmpty) Field("perm", "[" + string.Join(",", Perm) + "]");
        if (TransposeA) Field("transA", true);
        if (TransposeB) Field("transB", true);
        if (Count is not null) Field("count", Count);
        if (DType != DType.F32) Field("dtype", DType.Name());
        if (Init is not null) Field("init", Init);
        return sb.ToString();
    }

    private static uint DataHash(float[] data)
    {
        uint hash = 2166136261;
        foreach (var f in data) hash = (hash ^ (uint)BitConverter.SingleToInt32Bits(f)) * 16777619;
        return hash;
    }
}

/// <summary>How a parameter's first values are drawn.</summary>
public sealed record ParamInit(ParamInitKind Kind, double Std = 0)
{
    public static readonly ParamInit Zeros = new(ParamInitKind.Zeros);
    public static readonly ParamInit Ones = new(ParamInitKind.Ones);
    public static readonly ParamInit Xavier = new(ParamInitKind.Xavier);
    public static ParamInit Normal(double std) => new(ParamInitKind.Normal, std);
    public static readonly ParamInit KaimingUniform = new(ParamInitKind.KaimingUniform);

    public override string ToString() => Kind == ParamInitKind.Normal
        ? $"normal(std={Std.ToString(CultureInfo.InvariantCulture)})"
        : Kind.ToString().ToLowerInvariant();
}

public enum ParamInitKind : byte
{
    Zeros,
    Ones,
    Normal,
    /// <summary>Glorot uniform: U(-a, a) with a = sqrt(6 / (fan_in + fan_out)) over the last two axes.</summary>
    Xavier,
    /// <summary>
    /// torch's nn.Linear default (kaiming_uniform with a = √5), which peft uses for LoRA's A:
    /// U(-a, a) with a = 1/sqrt(fan_in), fan_in the second-to-last axis.
    /// </summary>
    KaimingUniform,
}

using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;

namespace Dataflow.Engine.Backends;

/// <summary>
/// A device-independent description of one kernel. Backends compile it, caching by <see cref="Key"/>,
/// a canonical text that is equal exactly when two specs would compile to the same code.
/// Buffers are passed to a launch inputs first, then outputs, in the order the spec lists them.
/// </summary>
public abstract record KernelSpec
{
    public abstract string Key { get; }

    /// <summary>A short name for logs and errors (the op or the fused group).</summary>
    public abstract string DisplayName { get; }
}

/// <summary>One primitive op that is not fused with anything (matmul, reductions, movement, indexing, leaves).</summary>
public sealed record OpKernelSpec(OpCode Op, OpAttrs Attrs, ImmutableArray<TensorDesc> Inputs, TensorDesc Output) : KernelSpec
{
    /// <summary>The op's <see cref="OpAttrs.Count"/> with its shape symbols bound (iota length, one-hot depth, scatter rows, dimension constant).</summary>
    public long Count { get; init; }

    public override string DisplayName => OpCatalog.Get(Op).Name;

    public override string Key =>
        $"{DisplayName}({string.Join(", ", Inputs)})->{Output}{{{Attrs.Describe()}; count={Count}}}";
}

/// <summary>
/// One instruction of a fused elementwise program. Registers hold values of the output's shape.
/// <c>Load</c> reads input <see cref="A"/> broadcast to the output shape; <c>Constant</c> fills
/// <see cref="Value"/>; every other op is an elementwise primitive over registers A (and B).
/// </summary>
public readonly record struct FusedInstruction(FusedOp Op, OpCode Code, int A, int B, float Value, DType CastTo)
{
    public static FusedInstruction Load(int input) => new(FusedOp.Load, OpCode.Input, input, -1, 0, DType.F32);
    public static FusedInstruction Const(float value) => new(FusedOp.Constant, OpCode.Constant, -1, -1, value, DType.F32);
    public static FusedInstruction Unary(OpCode code, int a, DType castTo = DType.F32) => new(FusedOp.Compute, code, a, -1, 0, castTo);
    public static FusedInstruction Binary(OpCode code, int a, int b) => new(FusedOp.Compute, code, a, b, 0, DType.F32);

    public override string ToString() => Op switch
    {
        FusedOp.Load => $"load in{A}",
        FusedOp.Constant => $"const {Value.ToString("R", CultureInfo.InvariantCulture)}",
        _ => B < 0 ? $"{OpCatalog.Get(Code).Name}{(Code == OpCode.Cast ? ":" + CastTo.Name() : "")} r{A}" : $"{OpCatalog.Get(Code).Name} r{A} r{B}",
    };
}

public enum FusedOp : byte { Load, Constant, Compute }

/// <summary>
/// A chain of elementwise ops compiled into one kernel: each output element is computed from the
/// inputs (broadcast to <see cref="Shape"/>) by running <see cref="Program"/>; registers listed in
/// <see cref="Outputs"/> are written out. Register i is the result of instruction i.
/// </summary>
public sealed record FusedElementwiseSpec(
    ImmutableArray<TensorDesc> Inputs,
    long[] Shape,
    ImmutableArray<FusedInstruction> Program,
    ImmutableArray<int> Outputs,
    ImmutableArray<DType> OutputTypes) : KernelSpec
{
    public long Elements => Shape.Aggregate(1L, (a, b) => a * b);

    public override string DisplayName => "fused[" + string.Join(" ", Program.Where(i => i.Op == FusedOp.Compute).Select(i => OpCatalog.Get(i.Code).Name)) + "]";

    /// <summary>
    /// Throws <see cref="ArgumentException"/> unless every load names an input, every computation reads
    /// only registers already computed, and every output is a register: what each backend's kernel
    /// relies on, checked once here rather than in each of them.
    /// </summary>
    public void Validate()
    {
        for (int r = 0; r < Program.Length; r++)
        {
            var ins = Program[r];
            if (ins.Op == FusedOp.Load && (ins.A < 0 || ins.A >= Inputs.Length))
                throw new ArgumentException($"{DisplayName}: instruction {r} loads input {ins.A} of {Inputs.Length}");
            if (ins.Op == FusedOp.Compute && (ins.A < 0 || ins.A >= r || ins.B >= r))
                throw new ArgumentException($"{DisplayName}: instruction {r} reads a register not yet computed");
        }
        foreach (int r in Outputs)
            if (r < 0 || r >= Program.Length) throw new ArgumentException($"{DisplayName}: output register r{r} does not exist");
    }

    public override string Key
    {
        get
        {
            var sb = new StringBuilder("fused(");
            sb.AppendJoin(", ", Inputs).Append(")->[").AppendJoin(",", Shape).Append("]{");
            for (int i = 0; i < Program.Length; i++) sb.Append('r').Append(i).Append('=').Append(Program[i]).Append("; ");
            sb.Append("out ").AppendJoin(",", Outputs.Select((r, i) => $"r{r}:{OutputTypes[i].Name()}")).Append('}');
            return sb.ToString();
        }
    }
}

public enum OptimizerKind : byte { Sgd, Adam, AdamW }

/// <summary>
/// An in-place parameter update. Buffers: parameter, gradient, then the optimizer's state
/// (SGD with momentum: velocity; Adam/AdamW: first and second moments). The hyperparameters
/// arrive in <see cref="LaunchParams.Scalars"/> in the order of <see cref="OptimizerScalars"/>.
/// </summary>
public sealed record OptimizerStepSpec(OptimizerKind Kind, long Elements) : KernelSpec
{
    public override string DisplayName => Kind.ToString().ToLowerInvariant() + "_step";
    public override string Key => $"{DisplayName}[{Elements}]";
}

/// <summary>Indices into <see cref="LaunchParams.Scalars"/> for an <see cref="OptimizerStepSpec"/>.</summary>
public static class OptimizerScalars
{
    public const int LearningRate = 0;
    public const int Beta1 = 1;          // SGD: momentum
    public const int Beta2 = 2;
    public const int Epsilon = 3;
    public const int WeightDecay = 4;
    public const int BiasCorrection1 = 5; // 1 - beta1^t
    public const int BiasCorrection2 = 6; // 1 - beta2^t
    public const int GradientScale = 7;   // from clipping by global norm; 1 when off
    public const int Count = 8;
}

/// <summary>Per-launch values that are not part of the compiled kernel.</summary>
public readonly record struct LaunchParams(ulong Seed, float[]? Scalars)
{
    public static readonly LaunchParams None = new(0, null);
}

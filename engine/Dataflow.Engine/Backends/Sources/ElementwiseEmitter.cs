using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;

namespace Dataflow.Engine.Backends.Sources;

/// <summary>
/// The one table of elementwise ops as C-style expressions, shared by the OpenCL C and GLSL
/// generators: adding an elementwise op to the device backends is one entry here. Expressions
/// whose C built-in differs from the CPU's semantics (NaN in max, tanh's saturation) call a
/// <c>df_*</c> helper that each dialect defines with those semantics (<see cref="CDialect.Helpers"/>).
/// </summary>
public static class ElementwiseEmitter
{
    public const string MaxHelper = "df_max";
    public const string TanhHelper = "df_tanh";

    /// <summary>The value of <paramref name="ins"/> (a compute instruction) on registers <paramref name="a"/> and <paramref name="b"/>.</summary>
    public static string Expression(FusedInstruction ins, CDialect dialect, string a, string b)
    {
        string one = dialect.Float(1f), zero = dialect.Float(0f);
        return ins.Code switch
        {
            OpCode.Neg => $"-{a}",
            OpCode.Exp => $"exp({a})",
            OpCode.Log => $"log({a})",
            OpCode.Sqrt => $"sqrt({a})",
            OpCode.Recip => $"{one} / {a}",
            OpCode.Tanh => $"{TanhHelper}({a})",
            OpCode.Sin => $"sin({a})",
            // x / (1 + e^−x): e^−x overflowing to ∞ gives ∓0, the limit, where x·σ(x) via 1/(1 + e^−x) would too.
            OpCode.Silu => $"{a} / ({one} + exp(-{a}))",
            // df_max as max has it: a NaN stays NaN, as on the CPU.
            OpCode.Relu2 => $"{MaxHelper}({a}, {zero}) * {MaxHelper}({a}, {zero})",
            OpCode.Cast when ins.CastTo == DType.I32 => $"trunc({a})",
            OpCode.Cast or OpCode.Detach => a,
            OpCode.Add => $"{a} + {b}",
            OpCode.Sub => $"{a} - {b}",
            OpCode.Mul => $"{a} * {b}",
            OpCode.Div => $"{a} / {b}",
            OpCode.Max => $"{MaxHelper}({a}, {b})",
            OpCode.Greater => $"({a} > {b}) ? {one} : {zero}",
            OpCode.Equal => $"({a} == {b}) ? {one} : {zero}",
            _ => throw new NotSupportedException($"{dialect.Name}: {OpCatalog.Get(ins.Code).Name} is not an elementwise op"),
        };
    }

    /// <summary>Whether the emitter has an expression for <paramref name="code"/>: what the device backends' elementwise support derives from.</summary>
    public static bool Supports(OpCode code) => OpCatalog.Get(code).IsElementwise;

    /// <summary>The <c>df_*</c> helpers the program's expressions call, which the backend must define before them.</summary>
    public static IReadOnlySet<string> Helpers(IEnumerable<FusedInstruction> program)
    {
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var ins in program)
        {
            if (ins.Op != FusedOp.Compute) continue;
            if (ins.Code is OpCode.Max or OpCode.Relu2) used.Add(MaxHelper);
            if (ins.Code == OpCode.Tanh) used.Add(TanhHelper);
        }
        return used;
    }
}

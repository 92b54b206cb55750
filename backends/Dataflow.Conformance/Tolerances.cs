using Dataflow.Graph.Ir;
using Dataflow.Graph.Ops;

namespace Dataflow.Conformance;

/// <summary>The largest error a comparison may show and still pass.</summary>
public sealed record Tolerance(double Nmse, double MaxRelError)
{
    public static readonly Tolerance Exact = new(0, 0);
}

/// <summary>
/// Every tolerance of the suite, in one place. A backend proves itself against these numbers: it
/// may not grow exceptions of its own. Measured on the CPU backend (see the report's table), every
/// backend-vs-reference comparison is exact and the reference is within 1e-13 NMSE of the double
/// evaluation, so nothing here is loosened for the CPU's sake.
/// </summary>
public static class Tolerances
{
    /// <summary>
    /// f32: ggml test-backend-ops' NMSE ≤ 1e-7 is the criterion. The max relative error (against a
    /// floor of 1e-3·RMS, see <see cref="Harness.ErrorMetrics.RelativeFloor"/>) is a backstop for a
    /// few grossly wrong elements that NMSE would average away in a large tensor; it is 1e-2 because
    /// f32 cancellation legitimately reaches ~1e-3 there (1 − tanh² in the tanh-GELU gradient
    /// measured 8.3e-4 against double), and transcendental functions on GPUs are allowed a few ulps more.
    /// </summary>
    public static readonly Tolerance Default = new(Nmse: 1e-7, MaxRelError: 1e-2);

    /// <summary>
    /// Ops whose result is fully determined bit for bit, whatever the device: selections and copies
    /// (max, reduce_max, movement, gather), integer and comparison results, sign flips and casts,
    /// generated leaves, and the counter-based dropout mask (its hash is specified in 32-bit integer
    /// arithmetic precisely so that backends agree). An output that one of these computes directly
    /// from fed or generated values (leaves) must match exactly; applied to computed values (a
    /// gradient's final reshape, say) it inherits their rounding, and the default applies.
    /// </summary>
    private static readonly HashSet<OpCode> BitExact =
    [
        OpCode.Constant, OpCode.Iota, OpCode.CausalMask, OpCode.DropoutMask,
        OpCode.Neg, OpCode.Cast, OpCode.Detach, OpCode.Max, OpCode.Greater, OpCode.Equal,
        OpCode.ReduceMax, OpCode.Reshape, OpCode.Permute, OpCode.Expand, OpCode.Gather, OpCode.OneHot,
    ];

    /// <summary>
    /// Per-op loosening, each with its reason. Empty: no op needs more than <see cref="Default"/> on
    /// the backends measured so far (cpu, opencl on PoCL, vulkan on lavapipe). A new backend that
    /// needs more must argue for it here.
    /// </summary>
    private static readonly Dictionary<string, Tolerance> ByOp = new(StringComparer.Ordinal)
    {
    };

    /// <summary>The tolerance for one output of a case on a backend against the CPU reference (fused or not).</summary>
    public static Tolerance For(ConformanceCase c, Node? output) =>
        output is not null && BitExact.Contains(output.Op) && output.Inputs.All(i => OpCatalog.Get(i.Op).Kind == OpKind.Leaf) ? Tolerance.Exact
        : ByOp.TryGetValue(c.Op, out var t) ? t
        : Default;

    /// <summary>
    /// The CPU f32 reference against the suite's double-precision evaluation of the same graph. The
    /// f32 result is rounded at every op, so this checks the reference's algorithm (accumulation
    /// order in long sums and matmuls), not its last bits: the same numbers serve.
    /// </summary>
    public static Tolerance ReferenceInDouble(ConformanceCase c, Node? output) => For(c, output);
}

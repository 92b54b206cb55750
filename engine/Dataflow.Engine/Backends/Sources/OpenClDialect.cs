using System.Globalization;
using System.Text;

namespace Dataflow.Engine.Backends.Sources;

/// <summary>
/// OpenCL C: a program holds every entry point; a work-item per element, bounds-checked; scalars
/// are kernel arguments after the buffers. Contraction into fma is switched off program-wide, so
/// plain <c>const float</c> temporaries round as written.
/// </summary>
public sealed class OpenClDialect : CDialect
{
    public override string Name => "opencl";
    public override string IndexType => "idx_t";
    public override string FloatLet => "const float";
    public override string FloatVar => "float";

    /// <summary>Shortest round-trip decimal, or the macros for the non-finite values.</summary>
    public override string Float(float v)
    {
        if (float.IsNaN(v)) return "NAN";
        if (float.IsPositiveInfinity(v)) return "INFINITY";
        if (float.IsNegativeInfinity(v)) return "(-INFINITY)";
        string s = v.ToString("R", CultureInfo.InvariantCulture);
        if (!s.Contains('.') && !s.Contains('E')) s += ".0";
        return "(" + s + "f)";
    }

    public override string NextElement => "return;";
    public override string SharedQualifier => "__local";
    public override string VectorType(int width) => width == 1 ? "float" : $"float{width}";
    public override string VectorOf(IReadOnlyList<string> lanes) => lanes.Count == 1 ? lanes[0] : $"(({VectorType(lanes.Count)})({string.Join(", ", lanes)}))";
    public override string Splat(int width, string x) => width == 1 ? x : $"(({VectorType(width)})({x}))";
    public override string Lane(int width, string v, int lane) => width == 1 ? v : $"{v}.s{lane:x}";
    /// <summary>Halves the vector with <c>.lo + .hi</c> down to two lanes (the same additions, in the same order, as lane by lane).</summary>
    public override (string Statements, string Sum) LaneSum(int width, string v, string name)
    {
        if (width < 4 || (width & (width - 1)) != 0) return base.LaneSum(width, v, name);
        var statements = new StringBuilder();
        string current = v;
        for (int w = width / 2, step = 0; w >= 2; w /= 2, step++)
        {
            string half = $"{name}_{step}";
            statements.Append($"const {VectorType(w)} {half} = {current}.lo + {current}.hi; ");
            current = half;
        }
        return (statements.ToString().TrimEnd(), $"({current}.s0 + {current}.s1)");
    }
    public override string VectorLoad(int width, string buffer, string offset) => width == 1 ? $"{buffer}[{offset}]" : $"vload{width}(0, {PointerPlus(buffer, offset)})";
    public override string VectorStore(int width, string v, string buffer, string offset) =>
        width == 1 ? $"{buffer}[{offset}] = {v};" : $"vstore{width}({v}, 0, {PointerPlus(buffer, offset)});";

    /// <summary>
    /// <c>buffer + offset</c> with each top-level term of a sum added to the pointer on its own
    /// (<c>b + bBase + c0 * 512 + kk</c>), not as one <c>idx_t</c> sum (<c>b + (bBase + c0 * 512 + kk)</c>):
    /// the compiler then widens each term once and hoists the loop-invariant ones, where the single
    /// 32-bit sum is re-extended to a 64-bit address every iteration (PoCL ran the register-blocked
    /// x · Bᵀ 1.3–1.6× slower that way, 128×512·784ᵀ and 64×288·32000ᵀ). An offset that is not a plain
    /// sum (a subtraction, a comparison, a conditional at the top level) keeps its parentheses.
    /// </summary>
    private static string PointerPlus(string buffer, string offset)
    {
        int depth = 0;
        foreach (char ch in offset)
        {
            if (ch == '(') depth++;
            else if (ch == ')') depth--;
            else if (depth == 0 && "-?:<>=&|!^~".Contains(ch)) return $"{buffer} + ({offset})";
        }
        return $"{buffer} + {offset}";
    }
    public override string Barrier => "barrier(CLK_LOCAL_MEM_FENCE);";
    public override string Float2Type => "float2";
    public override string Float2(string x, string y) => $"((float2)({x}, {y}))";
    public override string BitsToInt(string expr) => $"as_int({expr})";
    public override string Index(long v) => v.ToString(CultureInfo.InvariantCulture);
    public override string Convert(string type, string expr) => $"(({type})({expr}))";
    public override string SaturatingInt(string expr) => $"convert_int_sat_rtz({expr})";
    public override string IsNaN(string expr) => $"isnan({expr})";

    public override string Helpers(IReadOnlySet<string> used)
    {
        var sb = new StringBuilder();
        if (used.Contains(ElementwiseEmitter.MaxHelper)) sb.AppendLine(MaxHelper);
        if (used.Contains(ElementwiseEmitter.TanhHelper)) sb.AppendLine(TanhHelper);
        return sb.ToString();
    }

    /// <summary>
    /// One program. The index type is 32-bit unless some buffer needs more, because 64-bit
    /// division is slow on GPUs.
    /// </summary>
    public override string[] Render(string what, EmittedKernel kernel, int group)
    {
        long[] sizes = [.. kernel.BufferElements, .. kernel.Global, kernel.Baked?.Length ?? 0];
        var sb = Preamble(what, Wide(sizes));
        foreach (var helpers in kernel.Kernels.Select(k => k.Helpers).Where(h => h.Length > 0).Distinct()) sb.AppendLine(helpers);
        foreach (var k in kernel.Kernels)
        {
            var args = k.Buffers.Select(b => $"__global {(b.ReadOnly ? "const " : "")}{b.Type}* {b.Name}")
                .Concat((k.Scalars ?? []).Select(s => $"const {s.Type} {s.Name}"))
                .Concat(kernel.Baked is null ? [] : [$"__global const float* {EmittedKernel.BakedName}"]);
            sb.Append("__kernel ");
            if (k is GroupKernel g) sb.Append("__attribute__((reqd_work_group_size(").Append(g.Group).Append(", 1, 1))) ");
            if (k is GridKernel { Group: { } shape }) sb.Append("__attribute__((reqd_work_group_size(").AppendJoin(", ", shape.Concat([1, 1, 1]).Take(3)).Append("))) ");
            sb.Append("void ").Append(k.Entry).Append('(').AppendJoin(", ", args).AppendLine(")");
            sb.AppendLine("{");
            if (k is GroupKernel tree)
            {
                // A group per item: the launch is Count × Group work-items.
                foreach (var s in tree.Shared) sb.Append("    ").Append(SharedQualifier).Append(' ').Append(s.Type).Append(' ').Append(s.Name).Append('[').Append(tree.Group).AppendLine("];");
                sb.AppendLine("    const idx_t o = get_group_id(0);");
                sb.AppendLine("    const idx_t lid = get_local_id(0);");
            }
            else if (k is GridKernel grid)
            {
                foreach (var s in grid.Shared ?? []) sb.Append("    ").AppendLine(SharedDeclaration(s));
                foreach (var (ids, call) in GridIds) sb.Append("    const idx_t ").AppendJoin(", ", ids.Select((id, d) => $"{id} = {call}({d})")).AppendLine(";");
            }
            else
            {
                sb.AppendLine("    const idx_t i = get_global_id(0);");
                sb.Append("    if (i >= ").Append(Index(k.Count)).AppendLine(") return;");
            }
            foreach (var line in k.Body.Split('\n')) sb.Append("    ").AppendLine(line.TrimEnd('\r'));
            sb.AppendLine("}");
            sb.AppendLine();
        }
        return [sb.ToString()];
    }

    private static readonly (string[] Ids, string Call)[] GridIds =
        [(["gx", "gy", "gz"], "get_global_id"), (["lx", "ly", "lz"], "get_local_id"), (["wx", "wy", "wz"], "get_group_id")];

    /// <summary>
    /// Every program starts with this. Contraction into fma is switched off so that a*b+c rounds
    /// twice as it does on the CPU backend (whose SIMD code never fuses).
    /// </summary>
    public static StringBuilder Preamble(string what, bool wide)
    {
        var sb = new StringBuilder();
        sb.Append("// dataflow opencl: ").AppendLine(what);
        sb.AppendLine("#pragma OPENCL FP_CONTRACT OFF");
        sb.Append("typedef ").Append(wide ? "long" : "int").AppendLine(" idx_t;");
        return sb;
    }

    /// <summary>Whether index math over these element counts overflows 32-bit signed integers (with room for rounding up).</summary>
    public static bool Wide(params long[] sizes) => sizes.Any(s => s >= int.MaxValue / 2);

    /// <summary>
    /// Max follows the CPU's TensorPrimitives.Max: a NaN operand wins (itself, payload and sign
    /// included), and +0 is larger than -0 (fmax may return either zero, which would flip the sign
    /// of a later division).
    /// </summary>
    private const string MaxHelper = """
        inline float df_max(float a, float b)
        {
            if (isnan(a)) return a;
            if (isnan(b)) return b;
            if (a == b) return signbit(a) ? b : a;
            return a > b ? a : b;
        }
        """;

    /// <summary>
    /// tanh rounds to ±1 in float beyond |x| = 9, but an implementation may return 1 − ulp there
    /// (PoCL does): then the gradient 1 − tanh² is 1.2e−7 instead of 0, which a large factor (the
    /// x³ of GELU at |x| = 1e4) turns into a gradient of thousands. Saturate exactly, as the CPU does.
    /// </summary>
    private const string TanhHelper = """
        inline float df_tanh(float x)
        {
            if (fabs(x) > 9.0f) return x > 0.0f ? 1.0f : -1.0f;
            return tanh(x);
        }
        """;
}

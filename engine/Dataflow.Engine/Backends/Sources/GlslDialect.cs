using System.Globalization;
using System.Text;

namespace Dataflow.Engine.Backends.Sources;

/// <summary>
/// GLSL (Vulkan compute): one shader per entry point; buffers are std430 storage bindings in
/// order (inputs, outputs, then baked data), scalars push constants, and the element loop strides
/// by the whole dispatch so any number of groups covers the work. Indices are 32-bit unsigned:
/// the backend refuses tensors of 2^31 elements or more.
/// </summary>
public sealed class GlslDialect : CDialect
{
    public override string Name => "glsl";
    public override string IndexType => "uint";
    public override string FloatLet => "precise float";
    public override string FloatVar => "precise float";

    /// <summary>
    /// The shortest round-trip decimal when that decimal is exactly the float (no second rounding
    /// in the compiler can move it), otherwise the bits.
    /// </summary>
    public override string Float(float v)
    {
        if (float.IsNaN(v)) return $"uintBitsToFloat(0x{BitConverter.SingleToUInt32Bits(v):X8}u)";
        if (float.IsPositiveInfinity(v)) return "uintBitsToFloat(0x7F800000u)";
        if (float.IsNegativeInfinity(v)) return "uintBitsToFloat(0xFF800000u)";
        if (v == 0) return BitConverter.SingleToUInt32Bits(v) == 0 ? "0.0" : "(-0.0)";
        string s = v.ToString("R", CultureInfo.InvariantCulture);
        // The compiler reads a literal as a double, then rounds to float: exact when the decimal is the float.
        if (double.Parse(s, CultureInfo.InvariantCulture) != v) return $"uintBitsToFloat(0x{BitConverter.SingleToUInt32Bits(v):X8}u)";
        if (!s.Contains('.') && !s.Contains('E')) s += ".0";
        return v < 0 ? "(" + s + ")" : s;
    }

    public override string NextElement => "continue;";
    public override string SharedQualifier => "shared";

    public override string VectorType(int width) => width switch
    {
        1 => "float",
        >= 2 and <= 4 => $"vec{width}",
        _ => throw new NotSupportedException($"glsl has no float vector of {width} lanes (1 to 4)"),
    };

    public override string VectorOf(IReadOnlyList<string> lanes) => lanes.Count == 1 ? lanes[0] : $"{VectorType(lanes.Count)}({string.Join(", ", lanes)})";
    public override string Splat(int width, string x) => width == 1 ? x : $"{VectorType(width)}({x})";
    public override string Lane(int width, string v, int lane) => width == 1 ? v : $"{v}[{lane}]";
    public override string Barrier => "memoryBarrierShared();\nbarrier();";
    public override string Float2Type => "vec2";
    public override string Float2(string x, string y) => $"vec2({x}, {y})";
    public override string BitsToInt(string expr) => $"int({expr})";
    public override string Index(long v) => v.ToString(CultureInfo.InvariantCulture) + "u";
    public override string Convert(string type, string expr) => $"{type}({expr})";
    public override string SaturatingInt(string expr) => $"df_to_int({expr})";
    public override string IsNaN(string expr) => $"df_isnan({expr})";

    /// <summary>Every helper: their bodies call one another, and a shader compiles unused functions away.</summary>
    public override string Helpers(IReadOnlySet<string> used) => FloatHelpers;

    public override string[] Render(string what, EmittedKernel kernel, int group) =>
        [.. kernel.Kernels.Select(k => Shader(what, k, kernel.Baked is not null, group))];

    private string Shader(string what, KernelEntry k, bool baked, int group)
    {
        var shape = k switch
        {
            GroupKernel g => [g.Group],
            GridKernel { Group: { } fixedShape } => fixedShape,
            _ => [group],
        };
        var sb = Preamble(what, shape[0], shape.Length > 1 ? shape[1] : 1, shape.Length > 2 ? shape[2] : 1);
        for (int b = 0; b < k.Buffers.Length; b++) Buffer(sb, b, k.Buffers[b].Type, k.Buffers[b].Name, k.Buffers[b].ReadOnly);
        if (baked) Buffer(sb, k.Buffers.Length, "float", EmittedKernel.BakedName, readOnly: true);
        if (k.Scalars is { Length: > 0 } scalars)
            sb.Append("layout(push_constant) uniform Args { ").AppendJoin(' ', scalars.Select(s => $"{s.Type} {s.Name};")).AppendLine(" };");
        if (k.Helpers.Length > 0) sb.AppendLine(k.Helpers);
        if (k is GroupKernel tree) GroupLoop(sb, tree);
        else if (k is GridKernel grid) Grid(sb, grid);
        else GridLoop(sb, k.Count, k.Body);
        return sb.ToString();
    }

    /// <summary>Groups stride over the items, so the group count stays within the device's limit.</summary>
    private void GroupLoop(StringBuilder sb, GroupKernel k)
    {
        foreach (var s in k.Shared) sb.Append(SharedQualifier).Append(' ').Append(s.Type).Append(' ').Append(s.Name).Append('[').Append(k.Group).AppendLine("];");
        sb.AppendLine("void main()");
        sb.AppendLine("{");
        sb.AppendLine("    const uint lid = gl_LocalInvocationID.x;");
        sb.Append("    for (uint o = gl_WorkGroupID.x; o < ").Append(Index(k.Count)).AppendLine("; o += gl_NumWorkGroups.x)");
        sb.AppendLine("    {");
        // The next item's writes to shared memory wait until every invocation has finished this one.
        foreach (var line in (k.Body + "\n" + Barrier).Split('\n')) sb.Append("        ").AppendLine(line.TrimEnd('\r'));
        sb.AppendLine("    }");
        sb.AppendLine("}");
    }

    /// <summary>A body per invocation of the dispatch, no loop around it: the dispatch covers the grid exactly (rounded up to groups).</summary>
    private void Grid(StringBuilder sb, GridKernel k)
    {
        foreach (var s in k.Shared ?? []) sb.AppendLine(SharedDeclaration(s));
        sb.AppendLine("void main()");
        sb.AppendLine("{");
        foreach (var (ids, builtIn) in GridIds) sb.Append("    const uint ").AppendJoin(", ", ids.Select((id, d) => $"{id} = {builtIn}.{"xyz"[d]}")).AppendLine(";");
        foreach (var line in k.Body.Split('\n')) sb.Append("    ").AppendLine(line.TrimEnd('\r'));
        sb.AppendLine("}");
    }

    private static readonly (string[] Ids, string BuiltIn)[] GridIds =
        [(["gx", "gy", "gz"], "gl_GlobalInvocationID"), (["lx", "ly", "lz"], "gl_LocalInvocationID"), (["wx", "wy", "wz"], "gl_WorkGroupID")];

    /// <summary>
    /// Every shader starts with this. Float temporaries declared <c>precise</c> keep their
    /// rounding: no contraction of a*b+c into fma and no algebraic rewrites that would undo
    /// compensated sums.
    /// </summary>
    public static StringBuilder Preamble(string what, int x, int y = 1, int z = 1)
    {
        var sb = new StringBuilder();
        sb.AppendLine("#version 450");
        sb.Append("// dataflow vulkan: ").AppendLine(what.Replace('\n', ' ').Replace('\\', '/'));
        sb.Append("layout(local_size_x = ").Append(x).Append(", local_size_y = ").Append(y).Append(", local_size_z = ").Append(z).AppendLine(") in;");
        return sb;
    }

    /// <summary>A storage buffer at <paramref name="binding"/>, seen as an array <paramref name="name"/> of <paramref name="type"/>.</summary>
    public static void Buffer(StringBuilder sb, int binding, string type, string name, bool readOnly)
    {
        sb.Append("layout(std430, binding = ").Append(binding).Append(") ").Append(readOnly ? "readonly " : "")
          .Append("buffer B").Append(binding).Append(" { ").Append(type).Append(' ').Append(name).AppendLine("[]; };");
    }

    /// <summary>
    /// The body (statements using <c>i</c>) once for each i below <paramref name="n"/>, striding by
    /// the whole dispatch, so any number of groups covers the work.
    /// </summary>
    public static void GridLoop(StringBuilder sb, long n, string body)
    {
        sb.AppendLine("void main()");
        sb.AppendLine("{");
        sb.AppendLine("    const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;");
        sb.Append("    for (uint i = gl_GlobalInvocationID.x; i < ").Append(n.ToString(CultureInfo.InvariantCulture)).AppendLine("u; i += stride)");
        sb.AppendLine("    {");
        foreach (var line in body.Split('\n')) sb.Append("        ").AppendLine(line.TrimEnd('\r'));
        sb.AppendLine("    }");
        sb.AppendLine("}");
    }

    /// <summary>
    /// Float helpers with the CPU's semantics, written on the bits so no compiler rewrite (NaN
    /// comparisons assumed false, -0 == +0) can change them.
    /// </summary>
    public const string FloatHelpers = """
        bool df_isnan(float v) { return (floatBitsToUint(v) & 0x7FFFFFFFu) > 0x7F800000u; }

        // TensorPrimitives.Max: a NaN operand wins (itself), and +0 is larger than -0.
        float df_max(float a, float b)
        {
            if (df_isnan(a)) return a;
            if (df_isnan(b)) return b;
            if (a == b) return (floatBitsToInt(a) < 0) ? b : a;
            return a > b ? a : b;
        }

        // (int)x in .NET: toward zero, saturating, NaN to 0.
        int df_to_int(float v)
        {
            if (df_isnan(v)) return 0;
            if (v >= 2147483647.0) return 2147483647;
            if (v <= -2147483648.0) return (-2147483647 - 1);
            return int(v);
        }

        // tanh without the overflow of (e^2x - 1)/(e^2x + 1) for large x, nor its cancellation near 0:
        // odd Taylor terms below 0.3 (the first omitted term is under 1e-9 relative), 1 - 2/(e^2x + 1)
        // above, and the sign beyond 9, where tanh rounds to 1 in float.
        float df_tanh(float x)
        {
            precise float a = abs(x);
            if (df_isnan(x)) return x;
            if (a > 9.0) return x > 0.0 ? 1.0 : -1.0;
            precise float t;
            if (a < 0.3)
            {
                precise float s = a * a;
                t = a * (1.0 + s * (-0.33333333333 + s * (0.13333333333 + s * (-0.053968253968 + s * (0.021869488536 + s * (-0.0088632355299))))));
            }
            else
            {
                precise float e = exp(2.0 * a);
                t = 1.0 - 2.0 / (e + 1.0);
            }
            return x < 0.0 ? -t : t;
        }
        """;
}

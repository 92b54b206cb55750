using Dataflow.Graph.Tensors;

namespace Dataflow.Engine.Backends.Sources;

/// <summary>
/// The small table of what differs between the C-style languages the generated-source backends
/// compile (OpenCL C, GLSL): literals, the index type, float temporaries whose rounding must stay
/// as written, conversions, the <c>df_*</c> helpers' bodies, and how a kernel's buffers, scalars and
/// element loop are declared. The emitters in this folder write each algorithm once against it.
/// </summary>
public abstract class CDialect
{
    public static readonly CDialect OpenCl = new OpenClDialect();
    public static readonly CDialect Glsl = new GlslDialect();

    /// <summary>The language, for messages.</summary>
    public abstract string Name { get; }

    /// <summary>An exact literal of the float, parenthesised where a sign could bind wrongly.</summary>
    public abstract string Float(float v);

    /// <summary>A literal of the index type (<see cref="IndexType"/>).</summary>
    public abstract string Index(long v);

    /// <summary>The type of element indices: <c>idx_t</c> (int or long) in OpenCL C, <c>uint</c> in GLSL.</summary>
    public abstract string IndexType { get; }

    /// <summary>
    /// How a float temporary is declared so that it rounds as written: no fma contraction, no
    /// algebraic rewrite (the CPU backend never fuses), as <c>precise</c> does in GLSL.
    /// </summary>
    public abstract string FloatLet { get; }

    /// <summary>How a float variable that is assigned again (an accumulator) is declared, rounding as written.</summary>
    public abstract string FloatVar { get; }

    /// <summary>Leaves the current element's work early (a bounds-checked work-item returns; a grid loop moves on).</summary>
    public abstract string NextElement { get; }

    /// <summary>Makes the group's shared-memory writes visible to every invocation of the group and waits for all of them.</summary>
    public abstract string Barrier { get; }

    /// <summary>The qualifier of arrays a work-group shares: <c>__local</c> in OpenCL C, <c>shared</c> in GLSL.</summary>
    public abstract string SharedQualifier { get; }

    /// <summary>
    /// The float vector of <paramref name="width"/> lanes (width 1 is <c>float</c>). A dialect offers the
    /// widths its language has; kernels that want wide registers ask their backend's plan for a width.
    /// </summary>
    public abstract string VectorType(int width);

    /// <summary>A vector of <paramref name="lanes"/>.Length lanes holding <paramref name="lanes"/>.</summary>
    public abstract string VectorOf(IReadOnlyList<string> lanes);

    /// <summary>A vector of <paramref name="width"/> lanes, each <paramref name="x"/>.</summary>
    public abstract string Splat(int width, string x);

    /// <summary>Lane <paramref name="lane"/> of the vector <paramref name="v"/> of <paramref name="width"/> lanes.</summary>
    public abstract string Lane(int width, string v, int lane);

    /// <summary>
    /// The sum of the lanes of <paramref name="v"/>, pairwise with halves first: ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7))
    /// for eight lanes, the order a vector's lo + hi halving gives. <c>Statements</c> declare any temporaries (named from
    /// <paramref name="name"/>) that <c>Sum</c> reads. Here every lane is named alone; a dialect whose vectors halve
    /// cheaply does better (on PoCL, lane by lane the final sum of a short-K dot product cost as much as its K loop).
    /// </summary>
    public virtual (string Statements, string Sum) LaneSum(int width, string v, string name)
    {
        var lanes = Enumerable.Range(0, width).Select(i => Lane(width, v, i)).ToArray();
        while (lanes.Length > 1)
        {
            int half = lanes.Length / 2;
            lanes = [.. Enumerable.Range(0, half).Select(i => $"({lanes[i]} + {lanes[i + half]})")];
        }
        return ("", lanes[0]);
    }

    /// <summary><paramref name="width"/> consecutive floats of <paramref name="buffer"/> from element <paramref name="offset"/>, as a vector.</summary>
    public virtual string VectorLoad(int width, string buffer, string offset) =>
        width == 1 ? $"{buffer}[{offset}]" : VectorOf([.. Enumerable.Range(0, width).Select(i => $"{buffer}[{offset} + {Index(i)}]")]);

    /// <summary>A statement storing the vector <paramref name="v"/> to <paramref name="width"/> consecutive floats of <paramref name="buffer"/> from <paramref name="offset"/>.</summary>
    public virtual string VectorStore(int width, string v, string buffer, string offset) =>
        width == 1 ? $"{buffer}[{offset}] = {v};"
            : string.Join(" ", Enumerable.Range(0, width).Select(i => $"{buffer}[{offset} + {Index(i)}] = {Lane(width, v, i)};"));

    /// <summary>a·b + c in one rounding where the device has fused multiply-add (scalars or vectors alike).</summary>
    public string MulAdd(string a, string b, string c) => $"fma({a}, {b}, {c})";

    /// <summary>A pair of floats (a sum and its rounding error): the type, and a value of it.</summary>
    public abstract string Float2Type { get; }
    public abstract string Float2(string x, string y);

    /// <summary>The i32 with the bits of a uint (wrapping integer sums accumulate in uint, where overflow is defined).</summary>
    public abstract string BitsToInt(string expr);

    /// <summary><paramref name="expr"/> converted (C's value conversion) to the scalar <paramref name="type"/>.</summary>
    public abstract string Convert(string type, string expr);

    /// <summary>Float to i32 as .NET's (int)x: toward zero, saturating, NaN to 0.</summary>
    public abstract string SaturatingInt(string expr);

    /// <summary>Whether a float is NaN, in a way no fast-math assumption can fold away.</summary>
    public abstract string IsNaN(string expr);

    /// <summary>
    /// Definitions of the <c>df_*</c> helpers that <see cref="ElementwiseEmitter"/> names in
    /// <paramref name="used"/> (a dialect may define more: GLSL's bodies depend on one another).
    /// </summary>
    public abstract string Helpers(IReadOnlySet<string> used);

    /// <summary>
    /// The sources of <paramref name="kernel"/>: one program holding every entry point (OpenCL),
    /// or one shader per entry point (GLSL). <paramref name="group"/> is the work-group size a
    /// language bakes in (GLSL's local_size_x).
    /// </summary>
    public abstract string[] Render(string what, EmittedKernel kernel, int group);

    /// <summary>The declaration of a <see cref="GridKernel"/>'s shared array.</summary>
    protected string SharedDeclaration(SharedArray s) => $"{SharedQualifier} {s.Type} {s.Name}{string.Concat(s.Dims.Select(d => $"[{d}]"))};";

    public static string Type(DType type) => type == DType.I32 ? "int" : "float";

    /// <summary>The float the CPU reads from an element of <paramref name="type"/>.</summary>
    public string AsFloat(DType type, string element) => type == DType.I32 ? Convert("float", element) : element;

    /// <summary>
    /// The element of a strided view that the row-major linear index <paramref name="linear"/> walks to,
    /// as an expression; <paramref name="dims"/> and <paramref name="strides"/> are canonical (merged,
    /// no size-1 axes), so a plain copy is just the index and a broadcast scalar is 0.
    /// </summary>
    public string StridedIndex(string linear, long[] dims, long[] strides)
    {
        var terms = new List<string>();
        long inner = 1;
        for (int d = dims.Length - 1; d >= 0; d--)
        {
            if (strides[d] != 0)
            {
                string t = inner == 1 ? linear : $"{linear} / {Index(inner)}";
                if (d > 0) t = inner == 1 ? $"{t} % {Index(dims[d])}" : $"({t}) % {Index(dims[d])}";
                if (strides[d] != 1) t = t == linear ? $"{t} * {Index(strides[d])}" : $"({t}) * {Index(strides[d])}";
                terms.Add(t);
            }
            inner *= dims[d];
        }
        return terms.Count == 0 ? Index(0) : string.Join(" + ", terms);
    }

    /// <summary>The index into <paramref name="input"/> read for output element <paramref name="linear"/> under NumPy broadcasting.</summary>
    public string BroadcastIndex(string linear, long[] input, long[] output)
    {
        var (dims, strides) = TensorLayout.Canonical(output, TensorLayout.BroadcastStrides(input, output));
        return StridedIndex(linear, dims, strides);
    }

    /// <summary>Output axis d is input axis perm[d]: walk the output, step through the input with the permuted strides.</summary>
    public string PermuteIndex(string linear, long[] input, int[] perm)
    {
        var inStrides = TensorLayout.Strides(input);
        var dims = perm.Select(p => input[p]).ToArray();
        var strides = perm.Select(p => inStrides[p]).ToArray();
        var (cd, cs) = TensorLayout.Canonical(dims, strides);
        return StridedIndex(linear, cd, cs);
    }
}

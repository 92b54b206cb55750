using System.Globalization;
using System.Text;
using Dataflow.Engine.Backends;
using Dataflow.Graph.Tensors;

namespace Dataflow.Backends.OpenCL.Sources;

/// <summary>Pieces of OpenCL C shared by the generators: the preamble, literals, and index math with shapes baked in.</summary>
internal static class ClCode
{
    /// <summary>
    /// Every program starts with this. Contraction into fma is switched off so that a*b+c rounds
    /// twice as it does on the CPU backend (whose SIMD code never fuses), and the index type is
    /// 32-bit unless some buffer needs more, because 64-bit division is slow on GPUs.
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

    public static string CType(DType type) => type == DType.I32 ? "int" : "float";

    /// <summary>An exact float literal: shortest round-trip decimal, or the macros for the non-finite values.</summary>
    public static string Float(float v)
    {
        if (float.IsNaN(v)) return "NAN";
        if (float.IsPositiveInfinity(v)) return "INFINITY";
        if (float.IsNegativeInfinity(v)) return "(-INFINITY)";
        string s = v.ToString("R", CultureInfo.InvariantCulture);
        if (!s.Contains('.') && !s.Contains('E')) s += ".0";
        return "(" + s + "f)";
    }

    public static string Int(long v) => v.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// The element of a strided view that the row-major linear index <paramref name="linear"/> walks to,
    /// as an expression; <paramref name="dims"/> and <paramref name="strides"/> are canonical (merged,
    /// no size-1 axes), so a plain copy is just the index and a broadcast scalar is 0.
    /// </summary>
    public static string StridedIndex(string linear, long[] dims, long[] strides)
    {
        var terms = new List<string>();
        long inner = 1;
        for (int d = dims.Length - 1; d >= 0; d--)
        {
            if (strides[d] != 0)
            {
                string t = inner == 1 ? linear : $"{linear} / {Int(inner)}";
                if (d > 0) t = inner == 1 ? $"{t} % {Int(dims[d])}" : $"({t}) % {Int(dims[d])}";
                if (strides[d] != 1) t = t == linear ? $"{t} * {Int(strides[d])}" : $"({t}) * {Int(strides[d])}";
                terms.Add(t);
            }
            inner *= dims[d];
        }
        return terms.Count == 0 ? "0" : string.Join(" + ", terms);
    }

    /// <summary>The index into <paramref name="input"/> read for output element <paramref name="linear"/> under NumPy broadcasting.</summary>
    public static string BroadcastIndex(string linear, long[] input, long[] output)
    {
        var (dims, strides) = TensorLayout.Canonical(output, TensorLayout.BroadcastStrides(input, output));
        return StridedIndex(linear, dims, strides);
    }

    /// <summary>The float the CPU reads from an element of <paramref name="type"/>.</summary>
    public static string AsFloat(DType type, string element) => type == DType.I32 ? $"convert_float({element})" : element;
}

using System.Text;
using Dataflow.Engine.Backends;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;

namespace Dataflow.Backends.OpenCL.Sources;

/// <summary>
/// ReduceSum / ReduceMax over any axes (keepdims only changes the output's shape, not its layout).
/// Axes are merged into kept and reduced groups as on the CPU, and each group becomes one baked
/// index expression. Short reductions run a work-item per output element; long ones a work-group
/// per output element, each work-item striding over the reduced elements and the group finishing
/// with a tree in local memory. Float sums are compensated (Kahan) per work-item, so a sum of a
/// million terms stays within a few ulps of the CPU's double-accumulated result; i32 sums add in
/// 64 bits and wrap at the end like the CPU's.
/// </summary>
internal static class ReduceSource
{
    /// <summary>Below this many reduced elements per output, one work-item does the whole reduction.</summary>
    public const long SerialLimit = 64;

    /// <param name="group">The work-group size for long reductions: a power of two within the device's limits.</param>
    public static KernelSource Generate(OpKernelSpec spec, int group)
    {
        bool max = spec.Op == OpCode.ReduceMax;
        var input = spec.Inputs[0];
        bool isInt = input.DType == DType.I32;
        var (kept, keptStrides, reduced, reducedStrides) = Split(input.Shape, spec.Attrs.Axes);
        long outputs = kept.Aggregate(1L, (a, b) => a * b);
        long count = reduced.Aggregate(1L, (a, b) => a * b);
        bool serial = count <= SerialLimit;

        string type = isInt ? "int" : "float";
        string acc = isInt ? (max ? "int" : "long") : "float";
        string init = max ? (isInt ? "INT_MIN" : "(-INFINITY)") : (isInt ? "0" : "0.0f");
        string keptIndex = ClCode.StridedIndex("o", kept, keptStrides);
        string reducedIndex = ClCode.StridedIndex("j", reduced, reducedStrides);
        bool kahan = !max && !isInt;

        var sb = ClCode.Preamble(spec.Key, ClCode.Wide(input.Elements, (long)group * outputs));
        // Combine(a, b) is used both along a work-item's stride and across the tree: for floats it
        // propagates NaN like the CPU's max; for sums it is a plain add (Kahan lives in the loop).
        sb.AppendLine(max
            ? isInt ? "#define COMBINE(a, b) max(a, b)" : "#define COMBINE(a, b) ((isnan(b) || (b) > (a)) ? (b) : (a))"
            : "#define COMBINE(a, b) ((a) + (b))");
        sb.Append($$"""
            #define LOAD(j) x[base + ({{reducedIndex}})]
            inline {{acc}} df_reduce(__global const {{type}}* x, idx_t base, idx_t first, idx_t step)
            {
                {{acc}} s = {{init}};
            {{(kahan ? "    float c = 0.0f;\n" : "")}}    for (idx_t j = first; j < {{ClCode.Int(count)}}; j += step)
                {
            {{(kahan
                ? "        float v = LOAD(j) - c;\n        float t = s + v;\n        c = (t - s) - v;\n        s = t;\n"
                : $"        s = COMBINE(s, ({acc})LOAD(j));\n")}}    }
                return s;
            }

            """);

        if (serial)
        {
            sb.Append($$"""
                __kernel void reduce(__global const {{type}}* x, __global {{type}}* y)
                {
                    const idx_t o = get_global_id(0);
                    if (o >= {{ClCode.Int(outputs)}}) return;
                    y[o] = ({{type}})df_reduce(x, {{keptIndex}}, 0, 1);
                }

                """);
            return new KernelSource(sb.ToString(), ["reduce"], [input.Elements, outputs], [outputs]);
        }

        sb.Append($$"""
            #define G {{group}}
            __kernel __attribute__((reqd_work_group_size(G, 1, 1)))
            void reduce(__global const {{type}}* x, __global {{type}}* y)
            {
                __local {{acc}} part[G];
                const idx_t o = get_group_id(0);
                const int lid = get_local_id(0);
                part[lid] = df_reduce(x, {{keptIndex}}, lid, G);
                barrier(CLK_LOCAL_MEM_FENCE);
                for (int s = G / 2; s > 0; s >>= 1)
                {
                    if (lid < s) part[lid] = COMBINE(part[lid], part[lid + s]);
                    barrier(CLK_LOCAL_MEM_FENCE);
                }
                if (lid == 0) y[o] = ({{type}})part[0];
            }

            """);
        return new KernelSource(sb.ToString(), ["reduce"], [input.Elements, outputs], [outputs * group], Local: [group]);
    }

    /// <summary>
    /// Drops size-1 axes and merges neighbours of the same kind, then splits into kept and reduced
    /// groups with their strides in the input (the CPU backend's plan, minus its fast paths).
    /// </summary>
    private static (long[], long[], long[], long[]) Split(long[] shape, IEnumerable<int> axes)
    {
        var axisSet = axes.ToHashSet();
        var dims = new List<long>();
        var isReduced = new List<bool>();
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] == 1) continue;
            bool r = axisSet.Contains(i);
            if (dims.Count > 0 && isReduced[^1] == r) dims[^1] *= shape[i];
            else { dims.Add(shape[i]); isReduced.Add(r); }
        }
        var strides = TensorLayout.Strides(dims.ToArray());
        var kd = new List<long>(); var ks = new List<long>(); var rd = new List<long>(); var rs = new List<long>();
        for (int i = 0; i < dims.Count; i++)
        {
            (isReduced[i] ? rd : kd).Add(dims[i]);
            (isReduced[i] ? rs : ks).Add(strides[i]);
        }
        return (kd.ToArray(), ks.ToArray(), rd.ToArray(), rs.ToArray());
    }
}

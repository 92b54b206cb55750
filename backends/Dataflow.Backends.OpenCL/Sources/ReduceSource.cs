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
/// with a tree in local memory. Float sums carry their rounding error alongside (TwoSum) through
/// the strides and the tree, so a sum of a million terms lands within an ulp or so of the CPU's
/// double-accumulated result; i32 sums add in 64 bits and wrap at the end like the CPU's.
/// </summary>
internal static class ReduceSource
{
    /// <summary>On GPUs: up to this many reduced elements per output, one work-item does the whole reduction.</summary>
    public const long SerialLimit = 64;

    /// <param name="group">The work-group size for long reductions: a power of two within the device's limits.</param>
    /// <param name="serialLimit">Up to this many reduced elements per output, a work-item per output (see <see cref="KernelPlan"/>).</param>
    public static KernelSource Generate(OpKernelSpec spec, int group, long serialLimit = SerialLimit)
    {
        bool max = spec.Op == OpCode.ReduceMax;
        var input = spec.Inputs[0];
        bool isInt = input.DType == DType.I32;
        var (kept, keptStrides, reduced, reducedStrides) = TensorLayout.SplitReduction(input.Shape, spec.Attrs.Axes);
        long outputs = kept.Aggregate(1L, (a, b) => a * b);
        long count = reduced.Aggregate(1L, (a, b) => a * b);
        bool serial = count <= serialLimit;

        string type = isInt ? "int" : "float";
        string keptIndex = ClCode.StridedIndex("o", kept, keptStrides);
        string reducedIndex = ClCode.StridedIndex("j", reduced, reducedStrides);

        var sb = ClCode.Preamble(spec.Key, ClCode.Wide(input.Elements, (long)group * outputs));
        // ACC is what a work-item carries; ADD folds in one element, MERGE joins two work-items'
        // accumulators in the tree, FINAL rounds to the output. Float sums carry (sum, error) pairs
        // updated by TwoSum, an error-free transformation, so no rounding error is lost on the way.
        // Float max propagates the NaN it meets, like the CPU's.
        sb.AppendLine((max, isInt) switch
        {
            (false, false) => """
                typedef float2 acc_t;
                #define INIT ((float2)(0.0f, 0.0f))
                inline float2 two_sum(float2 a, float b)
                {
                    const float t = a.x + b;
                    const float z = t - a.x;
                    return (float2)(t, a.y + ((a.x - (t - z)) + (b - z)));
                }
                #define ADD(a, v) two_sum(a, v)
                #define MERGE(a, b) (two_sum(a, (b).x) + (float2)(0.0f, (b).y))
                #define FINAL(a) ((a).x + (a).y)
                """,
            (false, true) => """
                typedef long acc_t;
                #define INIT 0L
                #define ADD(a, v) ((a) + (long)(v))
                #define MERGE(a, b) ((a) + (b))
                #define FINAL(a) ((int)(a))
                """,
            (true, false) => """
                typedef float acc_t;
                #define INIT (-INFINITY)
                #define ADD(a, v) ((isnan(v) || (v) > (a)) ? (v) : (a))
                #define MERGE(a, b) ADD(a, b)
                #define FINAL(a) (a)
                """,
            (true, true) => """
                typedef int acc_t;
                #define INIT INT_MIN
                #define ADD(a, v) max(a, v)
                #define MERGE(a, b) max(a, b)
                #define FINAL(a) (a)
                """,
        });
        sb.Append($$"""
            inline acc_t df_reduce(__global const {{type}}* x, idx_t base, idx_t first, idx_t step)
            {
                acc_t s = INIT;
                for (idx_t j = first; j < {{ClCode.Int(count)}}; j += step)
                {
                    const {{type}} v = x[base + ({{reducedIndex}})];
                    s = ADD(s, v);
                }
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
                    y[o] = FINAL(df_reduce(x, {{keptIndex}}, 0, 1));
                }

                """);
            return new KernelSource(sb.ToString(), ["reduce"], [input.Elements, outputs], [outputs]);
        }

        sb.Append($$"""
            #define G {{group}}
            __kernel __attribute__((reqd_work_group_size(G, 1, 1)))
            void reduce(__global const {{type}}* x, __global {{type}}* y)
            {
                __local acc_t part[G];
                const idx_t o = get_group_id(0);
                const int lid = get_local_id(0);
                part[lid] = df_reduce(x, {{keptIndex}}, lid, G);
                barrier(CLK_LOCAL_MEM_FENCE);
                for (int s = G / 2; s > 0; s >>= 1)
                {
                    if (lid < s) part[lid] = MERGE(part[lid], part[lid + s]);
                    barrier(CLK_LOCAL_MEM_FENCE);
                }
                if (lid == 0) y[o] = FINAL(part[0]);
            }

            """);
        return new KernelSource(sb.ToString(), ["reduce"], [input.Elements, outputs], [outputs * group], Local: [group]);
    }
}

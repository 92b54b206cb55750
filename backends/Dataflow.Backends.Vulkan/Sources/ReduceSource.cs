using System.Text;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Backends.Sources;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;

namespace Dataflow.Backends.Vulkan.Sources;

/// <summary>
/// ReduceSum / ReduceMax over any axes (keepdims only changes the output's shape, not its layout).
/// Axes are merged into kept and reduced groups as on the CPU, and each group becomes one baked
/// index expression. Short reductions run an invocation per output element; long ones a work-group
/// per output element, each invocation striding over the reduced elements and the group finishing
/// with a tree in shared memory. Float sums carry their rounding error alongside (TwoSum, on
/// <c>precise</c> floats so no compiler rewrite undoes it) through the strides and the tree, so a
/// long sum lands within an ulp or so of the CPU's double-accumulated result; i32 sums wrap like
/// the CPU's (adding in 64 bits and truncating at the end gives the same bits as wrapping adds).
/// </summary>
internal static class ReduceSource
{
    /// <summary>On GPUs: up to this many reduced elements per output, one invocation does the whole reduction.</summary>
    public const long SerialLimit = 64;

    /// <param name="group">The work-group size: a power of two within the device's limits.</param>
    /// <param name="serialLimit">Up to this many reduced elements per output, an invocation per output (see <see cref="KernelPlan"/>).</param>
    /// <param name="budget">Loop iterations an invocation may run (<see cref="LoopBudget"/>): longer reductions take a tree, wider trees where needed.</param>
    /// <param name="maxGroup">The largest group the device allows, a power of two: how wide a tree may grow.</param>
    public static KernelSource Generate(OpKernelSpec spec, int group, long serialLimit, long budget, int maxGroup)
    {
        bool max = spec.Op == OpCode.ReduceMax;
        var input = spec.Inputs[0];
        bool isInt = input.DType == DType.I32;
        var (kept, keptStrides, reduced, reducedStrides) = TensorLayout.SplitReduction(input.Shape, spec.Attrs.Axes);
        long outputs = kept.Aggregate(1L, (a, b) => a * b);
        long count = reduced.Aggregate(1L, (a, b) => a * b);
        bool serial = count <= serialLimit && count <= LoopBudget.Chunk(budget);
        int steps = 31 - int.LeadingZeroCount(group);
        while (!serial && group < maxGroup && (count + group - 1) / group + steps + 1 > LoopBudget.Chunk(budget))
        {
            group *= 2;
            steps++;
        }

        string type = isInt ? "int" : "float";
        string keptIndex = GlslCode.StridedIndex("o", kept, keptStrides);
        string reducedIndex = GlslCode.StridedIndex("j", reduced, reducedStrides);

        var sb = GlslCode.Preamble(spec.DisplayName, group);
        GlslCode.Buffer(sb, 0, type, "x", readOnly: true);
        GlslCode.Buffer(sb, 1, type, "y", readOnly: false);
        sb.AppendLine(GlslCode.Helpers);
        // acc_t is what an invocation carries; add folds in one element, merge joins two
        // invocations' accumulators in the tree, final rounds to the output. Float sums carry
        // (sum, error) pairs updated by TwoSum, an error-free transformation. Float max
        // propagates the NaN it meets, like the CPU's.
        sb.AppendLine((max, isInt) switch
        {
            (false, false) => """
                #define acc_t vec2
                const vec2 INIT = vec2(0.0, 0.0);
                vec2 add(vec2 a, float b)
                {
                    precise float t = a.x + b;
                    precise float z = t - a.x;
                    precise float e = a.y + ((a.x - (t - z)) + (b - z));
                    return vec2(t, e);
                }
                vec2 merge(vec2 a, vec2 b)
                {
                    vec2 s = add(a, b.x);
                    precise float e = s.y + b.y;
                    return vec2(s.x, e);
                }
                float final(vec2 a)
                {
                    precise float s = a.x + a.y;
                    return s;
                }
                """,
            (false, true) => """
                #define acc_t int
                const int INIT = 0;
                int add(int a, int v) { return a + v; }
                int merge(int a, int b) { return a + b; }
                int final(int a) { return a; }
                """,
            (true, false) => $$"""
                #define acc_t float
                #define INIT {{GlslCode.Float(float.NegativeInfinity)}}
                float add(float a, float v) { return (df_isnan(v) || v > a) ? v : a; }
                float merge(float a, float b) { return add(a, b); }
                float final(float a) { return a; }
                """,
            (true, true) => """
                #define acc_t int
                const int INIT = (-2147483647 - 1);
                int add(int a, int v) { return max(a, v); }
                int merge(int a, int b) { return max(a, b); }
                int final(int a) { return a; }
                """,
        });
        sb.Append($$"""
            acc_t df_reduce(uint base, uint first, uint step)
            {
                acc_t s = INIT;
                for (uint j = first; j < {{GlslCode.UInt(count)}}; j += step)
                    s = add(s, x[base + ({{reducedIndex}})]);
                return s;
            }

            """);

        if (serial)
        {
            GlslCode.GridLoop(sb, outputs, $"const uint o = i;\ny[o] = final(df_reduce({keptIndex}, 0u, 1u));");
            return new KernelSource([sb.ToString()], [input.Elements, outputs], [outputs], [group], ItemIterations: count);
        }

        // A group per output; groups stride over outputs, so the count stays within the device's limit.
        sb.Append($$"""
            shared acc_t part[{{group}}];
            void main()
            {
                const uint lid = gl_LocalInvocationID.x;
                for (uint o = gl_WorkGroupID.x; o < {{GlslCode.UInt(outputs)}}; o += gl_NumWorkGroups.x)
                {
                    part[lid] = df_reduce({{keptIndex}}, lid, {{GlslCode.UInt(group)}});
                    memoryBarrierShared();
                    barrier();
                    for (uint s = {{GlslCode.UInt(group / 2)}}; s > 0u; s >>= 1)
                    {
                        if (lid < s) part[lid] = merge(part[lid], part[lid + s]);
                        memoryBarrierShared();
                        barrier();
                    }
                    if (lid == 0u) y[o] = final(part[0]);
                    memoryBarrierShared();
                    barrier();
                }
            }

            """);
        return new KernelSource([sb.ToString()], [input.Elements, outputs], [outputs * group], [group],
            ItemIterations: (count + group - 1) / group + steps + 1);
    }
}

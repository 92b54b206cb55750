using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;

namespace Dataflow.Engine.Backends.Sources;

/// <summary>
/// ReduceSum / ReduceMax over any axes (keepdims only changes the output's shape, not its layout).
/// Axes are merged into kept and reduced groups as on the CPU, and each group becomes one baked
/// index expression. Short reductions run one element's work per output; long ones a work-group
/// per output, each invocation striding over the reduced elements and the group finishing with a
/// tree in shared memory. Float sums carry their rounding error alongside (TwoSum, on temporaries
/// that round as written) through the strides and the tree, so a long sum lands within an ulp or
/// so of the CPU's double-accumulated result; i32 sums wrap like the CPU's (in uint, where
/// overflow is defined, then the bits as int).
/// </summary>
public static class ReduceEmitter
{
    /// <summary>On GPUs: up to this many reduced elements per output, one invocation does the whole reduction.</summary>
    public const long SerialLimit = 64;

    /// <param name="group">The work-group size: a power of two within the device's limits.</param>
    /// <param name="serialLimit">Up to this many reduced elements per output, an invocation per output (a backend's kernel plan).</param>
    /// <param name="budget">Loop iterations an invocation may run (<see cref="LoopBudget"/>): longer reductions take a tree, wider trees where needed.</param>
    /// <param name="maxGroup">The largest group the device allows, a power of two: how wide a tree may grow.</param>
    public static EmittedKernel Generate(OpKernelSpec spec, CDialect d, int group, long serialLimit, long budget, int maxGroup)
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

        string type = isInt ? "int" : "float", ix = d.IndexType;
        KernelBuffer[] buffers = [new(type, "x", ReadOnly: true), new(type, "y")];
        // The dialect's float helpers first: GLSL's NaN test for max is one of them.
        string helpers = d.Helpers(new HashSet<string>()) + "\n" + Accumulator(d, max, isInt);
        // The accumulator of the elements first, first + step, … of output o's reduction.
        string Walk(string first, string step) => $$"""
            ACC s = ACC_INIT;
            for ({{ix}} j = {{first}}; j < {{d.Index(count)}}; j += {{step}})
                s = acc_add(s, x[{{d.StridedIndex("o", kept, keptStrides)}} + ({{d.StridedIndex("j", reduced, reducedStrides)}})]);
            """;

        if (serial)
        {
            var each = new ElementKernel("reduce", buffers, outputs, $"const {ix} o = i;\n{Walk(d.Index(0), d.Index(1))}\ny[o] = acc_final(s);", Helpers: helpers);
            return EmittedKernel.Of(each, [input.Elements, outputs]) with { ItemIterations = count };
        }

        var tree = new GroupKernel("reduce", buffers, outputs, group, [new("ACC", "part")], $$"""
            {{Walk("lid", d.Index(group))}}
            part[lid] = s;
            {{d.Barrier}}
            for ({{ix}} h = {{d.Index(group / 2)}}; h > {{d.Index(0)}}; h >>= 1)
            {
                if (lid < h) part[lid] = acc_merge(part[lid], part[lid + h]);
                {{d.Barrier.Replace("\n", "\n    ")}}
            }
            if (lid == {{d.Index(0)}}) y[o] = acc_final(part[0]);
            """, helpers);
        return new([tree], [input.Elements, outputs], [outputs * group], ItemIterations: (count + group - 1) / group + steps + 1);
    }

    /// <summary>
    /// ACC is what an invocation carries; acc_add folds in one element, acc_merge joins two
    /// invocations' accumulators in the tree, acc_final rounds to the output. Float sums carry
    /// (sum, error) pairs updated by TwoSum, an error-free transformation, so no rounding error is
    /// lost on the way. Float max propagates the NaN it meets, like the CPU's.
    /// </summary>
    private static string Accumulator(CDialect d, bool max, bool isInt) => (max, isInt) switch
    {
        (false, false) => $$"""
            #define ACC {{d.Float2Type}}
            #define ACC_INIT {{d.Float2(d.Float(0f), d.Float(0f))}}
            ACC acc_add(ACC a, float b)
            {
                {{d.FloatLet}} t = a.x + b;
                {{d.FloatLet}} z = t - a.x;
                {{d.FloatLet}} e = a.y + ((a.x - (t - z)) + (b - z));
                return {{d.Float2("t", "e")}};
            }
            ACC acc_merge(ACC a, ACC b)
            {
                ACC s = acc_add(a, b.x);
                {{d.FloatLet}} e = s.y + b.y;
                return {{d.Float2("s.x", "e")}};
            }
            float acc_final(ACC a)
            {
                {{d.FloatLet}} s = a.x + a.y;
                return s;
            }
            """,
        (false, true) => $$"""
            #define ACC uint
            #define ACC_INIT 0u
            uint acc_add(uint a, int v) { return a + {{d.Convert("uint", "v")}}; }
            uint acc_merge(uint a, uint b) { return a + b; }
            int acc_final(uint a) { return {{d.BitsToInt("a")}}; }
            """,
        (true, false) => $$"""
            #define ACC float
            #define ACC_INIT {{d.Float(float.NegativeInfinity)}}
            float acc_add(float a, float v) { return ({{d.IsNaN("v")}} || v > a) ? v : a; }
            float acc_merge(float a, float b) { return acc_add(a, b); }
            float acc_final(float a) { return a; }
            """,
        (true, true) => """
            #define ACC int
            #define ACC_INIT (-2147483647 - 1)
            int acc_add(int a, int v) { return max(a, v); }
            int acc_merge(int a, int b) { return max(a, b); }
            int acc_final(int a) { return a; }
            """,
    };
}

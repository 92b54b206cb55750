namespace Dataflow.Conformance.Cases;

/// <summary>
/// reduce_sum and reduce_max over leading, middle, trailing, several and all axes, with and without
/// kept dims, size-1 axes, i32, and reductions of more than 1e5 elements in each of the CPU kernel's
/// paths (whole tensor, rows, columns), where summation order decides the error.
/// </summary>
internal static class ReductionCases
{
    private static readonly (long[] Shape, int[] Axes, bool Keep)[] Shapes =
    [
        ([17], [0], false),
        ([3, 65], [1], false),
        ([3, 65], [0], false),
        ([3, 65], [1], true),
        ([2, 3, 5, 7], [1, 3], false),
        ([2, 3, 5, 7], [0, 1, 2, 3], false),
        ([2, 3, 5, 7], [0, 2], true),
        ([2, 3, 5, 7], [2], false),
        ([1, 17, 1], [0, 2], false),
        ([1], [0], true),
    ];

    /// <summary>Over 1e5 elements, values in [0, 1) so that naive float accumulation would drift measurably.</summary>
    private static readonly (long[] Shape, int[] Axes)[] Large =
    [
        ([131072], [0]),
        ([3, 40000], [1]),
        ([40000, 3], [0]),
        ([2, 300, 257], [1]),
        ([5, 130, 160], [0, 2]),
    ];

    public static IEnumerable<ConformanceCase> All()
    {
        var list = new CaseList();
        foreach (var (shape, axes, keep) in Shapes)
        {
            var d = $"{CaseList.Dims(shape)}-axes{CaseList.Dims(axes.Select(a => (long)a).ToArray())}{(keep ? "-keep" : "")}";
            list.Add("reduce_sum", d, c => c.OutputWithLoss(c.B.ReduceSum(c.Param("x", shape), axes, keep)));
            list.Add("reduce_max", d, c => c.OutputWithLoss(c.B.ReduceMax(c.Param("x", shape), axes, keep)));
        }
        foreach (var (shape, axes) in Large)
        {
            var d = $"large{CaseList.Dims(shape)}-axes{CaseList.Dims(axes.Select(a => (long)a).ToArray())}";
            list.Add("reduce_sum", d, c => c.OutputWithLoss(c.B.ReduceSum(c.Param("x", shape, 0, 1), axes)));
            list.Add("reduce_max", d, c => c.OutputWithLoss(c.B.ReduceMax(c.Param("x", shape, 0, 1), axes)));
        }
        list.Add("reduce_sum", "i32[5,17]-axes[1]", c => c.Output(c.B.ReduceSum(c.Indices("i", [5, 17], -100, 100), [1])));
        list.Add("reduce_max", "i32[5,17]-axes[0]", c => c.Output(c.B.ReduceMax(c.Indices("i", [5, 17], -100, 100), [0])));
        return list;
    }
}

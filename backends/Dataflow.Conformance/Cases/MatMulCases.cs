namespace Dataflow.Conformance.Cases;

/// <summary>
/// matmul in all four transpose combinations over plain, gemv-shaped, size-1, batched and
/// batch-broadcast shapes (odd sizes throughout), plus one long inner dimension where the
/// accumulation order is what the double-precision check is for.
/// </summary>
internal static class MatMulCases
{
    /// <summary>Operand shapes as [batch.., M, K] and [batch.., K, N] before any transpose.</summary>
    private static readonly (string Name, long[] A, long[] B)[] Shapes =
    [
        ("plain", [17, 65], [65, 33]),
        ("gemv-m1", [1, 65], [65, 17]),
        ("n1", [17, 65], [65, 1]),
        ("ones", [1, 1], [1, 1]),
        ("batched", [4, 5, 130], [4, 130, 3]),
        ("batch-broadcast", [2, 1, 3, 17], [3, 17, 5]),
        ("shared-a", [3, 17], [3, 17, 5]),
        ("shared-b", [2, 3, 7, 9], [9, 11]),
    ];

    public static IEnumerable<ConformanceCase> All()
    {
        var list = new CaseList();
        foreach (var (name, a, b) in Shapes)
            foreach (var ta in new[] { false, true })
                foreach (var tb in new[] { false, true })
                    list.Add("matmul", $"{name}{CaseList.Dims(a)}x{CaseList.Dims(b)}{(ta ? "-ta" : "")}{(tb ? "-tb" : "")}", c =>
                        c.OutputWithLoss(c.B.MatMul(c.Param("a", Transposed(a, ta)), c.Param("b", Transposed(b, tb)), ta, tb)));
        list.Add("matmul", "long-k[9,4099]x[4099,7]", c => c.OutputWithLoss(c.B.MatMul(c.Param("a", [9, 4099], 0, 1), c.Param("b", [4099, 7], 0, 1))));
        return list;
    }

    /// <summary>The stored shape of an operand that the matmul reads transposed: its last two axes swapped.</summary>
    private static long[] Transposed(long[] shape, bool transpose)
    {
        if (!transpose) return shape;
        var t = (long[])shape.Clone();
        (t[^1], t[^2]) = (t[^2], t[^1]);
        return t;
    }
}

using Dataflow.Graph.Tensors;

namespace Dataflow.Conformance.Cases;

/// <summary>reshape (an alias: read back through the next kernel), permute and expand, ranks 0 to 4, forward and backward.</summary>
internal static class MovementCases
{
    public static IEnumerable<ConformanceCase> All()
    {
        var list = new CaseList();
        foreach (var (from, to) in new (long[], long[])[] { ([17, 6], [6, 17]), ([2, 3, 5, 7], [210]), ([1], []), ([], [1, 1, 1]), ([130], [2, 5, 13]) })
            list.Add("reshape", $"{CaseList.Dims(from)}-to-{CaseList.Dims(to)}", c => c.OutputWithLoss(c.B.Reshape(c.Param("x", from), Shape.Of(to))));
        // The source is a kernel's output rather than a parameter, so the alias shares a transient buffer.
        list.Add("reshape", "of-computed[3,65]-to-[65,3]", c => c.OutputWithLoss(c.B.Tanh(c.B.Reshape(c.B.Exp(c.Param("x", [3, 65])), Shape.Of(65, 3)))));

        foreach (var (shape, perm) in new (long[], int[])[]
        {
            ([3, 65], [1, 0]), ([65, 130], [1, 0]), ([2, 17, 33], [0, 2, 1]), ([2, 3, 5], [2, 0, 1]),
            ([4, 3, 5, 7], [0, 2, 1, 3]), ([3, 5, 7, 2], [3, 1, 0, 2]), ([1, 17, 1, 3], [3, 2, 1, 0]), ([5], [0]),
        })
            list.Add("permute", $"{CaseList.Dims(shape)}-perm{CaseList.Dims(perm.Select(p => (long)p).ToArray())}", c => c.OutputWithLoss(c.B.Permute(c.Param("x", shape), perm)));

        foreach (var (from, to) in new (long[], long[])[] { ([3, 1], [2, 3, 4]), ([], [5]), ([1, 1], [17, 65]), ([1, 5, 1, 3], [4, 5, 6, 3]), ([65], [3, 65]), ([1], [130]) })
            list.Add("expand", $"{CaseList.Dims(from)}-to-{CaseList.Dims(to)}", c => c.OutputWithLoss(c.B.Expand(c.Param("x", from), Shape.Of(to))));
        return list;
    }
}

namespace Dataflow.Conformance.Cases;

/// <summary>
/// gather (backward: scatter_add), scatter_add (backward: gather), one_hot and store_rows (in place, no gradient), with repeated
/// indices, rank-2 index tensors, size 1, and out-of-range indices, which the CPU reference defines:
/// gather and one_hot give a zero row, scatter_add skips the value.
/// </summary>
internal static class IndexCases
{
    public static IEnumerable<ConformanceCase> All()
    {
        var list = new CaseList
        {
            { "gather", "table[17,5]-index[7]", c => c.OutputWithLoss(c.B.Gather(c.Param("t", [17, 5]), c.Indices("i", [7], 0, 17))) },
            { "gather", "table[9,3,4]-index[2,3]", c => c.OutputWithLoss(c.B.Gather(c.Param("t", [9, 3, 4]), c.Indices("i", [2, 3], 0, 9))) },
            { "gather", "table[5]-index[6]", c => c.OutputWithLoss(c.B.Gather(c.Param("t", [5]), c.Indices("i", [6], 0, 5))) },
            { "gather", "table[1,65]-index[1]", c => c.OutputWithLoss(c.B.Gather(c.Param("t", [1, 65]), c.Indices("i", [1], [0]))) },
            { "gather", "out-of-range-gives-zero-row", c => c.OutputWithLoss(c.B.Gather(c.Param("t", [4, 3]), c.Indices("i", [5], [1, -1, 4, 3, 100]))) },

            { "scatter_add", "values[6,5]-rows4-repeats", c => c.OutputWithLoss(c.B.ScatterAdd(c.Param("v", [6, 5]), c.Indices("i", [6], [1, 0, 1, 3, 1, 0]), 4)) },
            { "scatter_add", "values[2,3,4]-index[2,3]-rows5", c => c.OutputWithLoss(c.B.ScatterAdd(c.Param("v", [2, 3, 4]), c.Indices("i", [2, 3], 0, 5), 5)) },
            { "scatter_add", "values[7]-rows3", c => c.OutputWithLoss(c.B.ScatterAdd(c.Param("v", [7]), c.Indices("i", [7], 0, 3), 3)) },
            { "scatter_add", "values[130,17]-rows65", c => c.OutputWithLoss(c.B.ScatterAdd(c.Param("v", [130, 17]), c.Indices("i", [130], 0, 65), 65)) },
            { "scatter_add", "out-of-range-is-skipped", c => c.OutputWithLoss(c.B.ScatterAdd(c.Param("v", [4, 3]), c.Indices("i", [4], [2, -1, 5, 0]), 3)) },

            { "one_hot", "index[5]-depth7", c => c.Output(c.B.OneHot(c.Indices("i", [5], 0, 7), 7)) },
            { "one_hot", "index[2,3]-depth17", c => c.Output(c.B.OneHot(c.Indices("i", [2, 3], 0, 17), 17)) },
            { "one_hot", "index[1]-depth1", c => c.Output(c.B.OneHot(c.Indices("i", [1], [0]), 1)) },
            { "one_hot", "index[130]-depth65", c => c.Output(c.B.OneHot(c.Indices("i", [130], 0, 65), 65)) },
            { "store_rows", "target[6,3]-index[4]", c => c.Output(c.B.StoreRows(c.Input("t", [6, 3]), c.Input("v", [4, 3]), c.Indices("i", [4], [5, 0, 2, 3]))) },
            { "store_rows", "target[9,2,4]-index[2,3]", c => c.Output(c.B.StoreRows(c.Input("t", [9, 2, 4]), c.Input("v", [2, 3, 2, 4]), c.Indices("i", [2, 3], [8, 1, 4, 0, 7, 2]))) },
            { "store_rows", "target[130,17]-index[65]", c => c.Output(c.B.StoreRows(c.Input("t", [130, 17]), c.Input("v", [65, 17]), c.Indices("i", [65], Enumerable.Range(0, 65).Select(i => 2 * i).ToArray()))) },
            { "store_rows", "out-of-range-is-skipped", c => c.Output(c.B.StoreRows(c.Input("t", [4, 3]), c.Input("v", [4, 3]), c.Indices("i", [4], [2, -1, 5, 0]))) },
            { "one_hot", "out-of-range-gives-zero-row", c => c.Output(c.B.OneHot(c.Indices("i", [4], [-1, 7, 100, 3]), 7)) },
        };
        return list;
    }
}

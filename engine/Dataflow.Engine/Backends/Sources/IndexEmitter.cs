namespace Dataflow.Engine.Backends.Sources;

/// <summary>
/// Gather, ScatterAdd, OneHot and StoreRows. Out-of-range indices behave as on the CPU: gather
/// reads a zero row, scatter skips the value, one-hot leaves a zero row, store_rows stores nothing.
/// </summary>
public static class IndexEmitter
{
    /// <summary>Rows move as raw 32-bit words, so one kernel serves f32 and i32 tables.</summary>
    public static EmittedKernel Gather(OpKernelSpec spec, CDialect d)
    {
        var table = spec.Inputs[0];
        long rows = table.Shape.Length == 0 ? 1 : table.Shape[0];
        long width = table.Shape.Skip(1).Aggregate(1L, (a, b) => a * b);
        long n = spec.Output.Elements;
        string w = d.Index(width);
        string body =
            $"const int r = index[i / {w}];\n" +
            $"y[i] = (r >= 0 && r < {rows}) ? table[{d.Convert(d.IndexType, "r")} * {w} + i % {w}] : 0u;";
        KernelBuffer[] buffers = [new("uint", "table", ReadOnly: true), new("int", "index", ReadOnly: true), new("uint", "y")];
        return EmittedKernel.Of(new("gather", buffers, n, body), [table.Elements, spec.Inputs[1].Elements, n]);
    }

    /// <summary>
    /// Deterministic without atomics: every output element is owned by one invocation, which adds
    /// the values aimed at it in index order, the order the CPU adds them in, so the sums agree
    /// bit for bit. Two shapes of ownership: an invocation per output element scanning every index
    /// (parallel over rows × width, but rows × count work), or an invocation per column walking the
    /// indices once (count work, parallel over width only). The cheaper one for the device
    /// (<paramref name="parallelism"/>: invocations it runs at once) is generated.
    /// </summary>
    /// <remarks>
    /// Where the loop budget is finite (<see cref="LoopBudget"/>), the index walk is split into
    /// passes: each continues from the sums the previous pass stored, so the additions still happen
    /// one by one in index order and the result is the same bits.
    /// </remarks>
    public static EmittedKernel ScatterAdd(OpKernelSpec spec, CDialect d, long parallelism, long budget)
    {
        long rows = spec.Count;
        long count = spec.Inputs[1].Elements;
        long width = count == 0 ? spec.Output.Shape.Skip(1).Aggregate(1L, (a, b) => a * b) : spec.Inputs[0].Elements / count;
        long n = rows * width;
        double perElement = (double)n * count / Math.Max(1, Math.Min(n, parallelism));
        double perColumn = (double)(count + rows) * Math.Ceiling((double)width / Math.Max(1, Math.Min(width, parallelism)));
        long chunk = LoopBudget.Chunk(budget);
        int passes = LoopBudget.Passes(count, budget);
        bool byColumn = perColumn < perElement && rows <= chunk;

        string ix = d.IndexType, w = d.Index(width), r = d.Index(rows), c = d.Index(count);
        string begin = passes == 1 ? d.Index(0) : $"pass_index * {d.Index(chunk)}";
        string end = passes == 1 ? c : $"min({c}, pass_index * {d.Index(chunk)} + {d.Index(chunk)})";
        KernelBuffer[] buffers = [new("float", "values", ReadOnly: true), new("int", "index", ReadOnly: true), new("float", "y")];
        KernelScalar[]? pass = passes > 1 ? [new("uint", "pass_index")] : null;
        var scalars = passes > 1 ? LaunchScalars.Pass : LaunchScalars.None;
        long[] elements = [spec.Inputs[0].Elements, count, n];
        string row = d.Convert(ix, "row");
        if (byColumn)
        {
            // i is the column; the first pass zeroes it.
            var column = new ElementKernel("scatter_add", buffers, width, $$"""
                {{(passes == 1 ? "" : "if (pass_index == 0u) ")}}for ({{ix}} row = {{d.Index(0)}}; row < {{r}}; row++) y[row * {{w}} + i] = {{d.Float(0f)}};
                for ({{ix}} k = {{begin}}; k < {{end}}; k++)
                {
                    const int row = index[k];
                    if (row >= 0 && {{row}} < {{r}})
                    {
                        {{d.FloatLet}} s = y[{{row}} * {{w}} + i] + values[k * {{w}} + i];
                        y[{{row}} * {{w}} + i] = s;
                    }
                }
                """, pass);
            return new([column], elements, [width], scalars, ItemIterations: rows + Math.Min(count, chunk), Passes: passes);
        }

        var element = new ElementKernel("scatter_add", buffers, n, $$"""
            const int row = {{d.Convert("int", $"i / {w}")}};
            const {{ix}} j = i % {{w}};
            {{d.FloatVar}} s = {{(passes == 1 ? d.Float(0f) : $"pass_index == 0u ? {d.Float(0f)} : y[i]")}};
            for ({{ix}} k = {{begin}}; k < {{end}}; k++)
                if (index[k] == row) s = s + values[k * {{w}} + j];
            y[i] = s;
            """, pass);
        return new([element], elements, [n], scalars, ItemIterations: Math.Min(count, chunk), Passes: passes);
    }

    public static EmittedKernel OneHot(OpKernelSpec spec, CDialect d)
    {
        long depth = spec.Count;
        long count = spec.Inputs[0].Elements;
        long n = count * depth;
        string body = $"y[i] = (index[i / {d.Index(depth)}] == {d.Convert("int", $"i % {d.Index(depth)}")}) ? {d.Float(1f)} : {d.Float(0f)};";
        return EmittedKernel.Of(new("one_hot", [new("int", "index", ReadOnly: true), new("float", "y")], n, body), [count, n]);
    }

    /// <summary>store_rows in place: each value's work copies it into its row (the engine binds the target as the output too).</summary>
    public static EmittedKernel StoreRows(OpKernelSpec spec, CDialect d)
    {
        var target = spec.Inputs[0];
        long rows = target.Shape[0];
        long width = target.Shape.Skip(1).Aggregate(1L, (a, b) => a * b);
        long n = spec.Inputs[1].Elements;
        string w = d.Index(width);
        string body =
            $"const int r = index[i / {w}];\n" +
            $"if (r >= 0 && r < {rows}) y[{d.Convert(d.IndexType, "r")} * {w} + i % {w}] = values[i];";
        KernelBuffer[] buffers = [new("float", "target", ReadOnly: true), new("float", "values", ReadOnly: true), new("int", "index", ReadOnly: true), new("float", "y")];
        return EmittedKernel.Of(new("store_rows", buffers, n, body), [target.Elements, n, spec.Inputs[2].Elements, spec.Output.Elements])
            with { Global = [Math.Max(1, n)] };
    }
}

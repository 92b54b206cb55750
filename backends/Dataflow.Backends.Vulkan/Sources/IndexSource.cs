using Dataflow.Engine.Backends;

namespace Dataflow.Backends.Vulkan.Sources;

/// <summary>
/// Gather, ScatterAdd and OneHot. Out-of-range indices behave as on the CPU: gather reads a zero
/// row, scatter skips the value, one-hot leaves a zero row.
/// </summary>
internal static class IndexSource
{
    public static KernelSource Gather(OpKernelSpec spec, int group)
    {
        var table = spec.Inputs[0];
        long rows = table.Shape.Length == 0 ? 1 : table.Shape[0];
        long width = table.Shape.Skip(1).Aggregate(1L, (a, b) => a * b);
        long n = spec.Output.Elements;
        string w = GlslCode.UInt(width);
        var sb = GlslCode.Preamble(spec.DisplayName, group);
        GlslCode.Buffer(sb, 0, "uint", "table", readOnly: true);
        GlslCode.Buffer(sb, 1, "int", "index", readOnly: true);
        GlslCode.Buffer(sb, 2, "uint", "y", readOnly: false);
        GlslCode.GridLoop(sb, n,
            $"const int r = index[i / {w}];\n" +
            $"y[i] = (r >= 0 && r < {rows}) ? table[uint(r) * {w} + i % {w}] : 0u;");
        return new KernelSource([sb.ToString()], [table.Elements, spec.Inputs[1].Elements, n], [n], [group]);
    }

    /// <summary>
    /// Deterministic without atomics: every output element is owned by one invocation, which adds
    /// the values aimed at it in index order, the order the CPU adds them in, so the sums agree
    /// bit for bit. Two shapes of ownership: an invocation per output element scanning every index
    /// (parallel over rows × width, but rows × count work), or an invocation per column walking the
    /// indices once (count work, parallel over width only). The cheaper one for the device is generated.
    /// </summary>
    /// <remarks>
    /// Where the loop budget is finite (<see cref="LoopBudget"/>), the index walk is split into
    /// passes: each continues from the sums the previous pass stored, so the additions still happen
    /// one by one in index order and the result is the same bits.
    /// </remarks>
    public static KernelSource ScatterAdd(OpKernelSpec spec, long parallelism, int group, long budget)
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

        string w = GlslCode.UInt(width), r = GlslCode.UInt(rows), c = GlslCode.UInt(count);
        string begin = passes == 1 ? "0u" : $"pass_index * {GlslCode.UInt(chunk)}";
        string end = passes == 1 ? c : $"min({c}, pass_index * {GlslCode.UInt(chunk)} + {GlslCode.UInt(chunk)})";
        var sb = GlslCode.Preamble(spec.DisplayName, group);
        GlslCode.Buffer(sb, 0, "float", "values", readOnly: true);
        GlslCode.Buffer(sb, 1, "int", "index", readOnly: true);
        GlslCode.Buffer(sb, 2, "float", "y", readOnly: false);
        if (passes > 1) sb.AppendLine("layout(push_constant) uniform Pass { uint pass_index; };");
        var push = passes > 1 ? PushArgs.Pass : PushArgs.None;
        long[] buffers = [spec.Inputs[0].Elements, count, n];
        if (byColumn)
        {
            // i is the column; the first pass zeroes it.
            GlslCode.GridLoop(sb, width, $$"""
                {{(passes == 1 ? "" : "if (pass_index == 0u) ")}}for (uint row = 0u; row < {{r}}; row++) y[row * {{w}} + i] = 0.0;
                for (uint k = {{begin}}; k < {{end}}; k++)
                {
                    const int row = index[k];
                    if (row >= 0 && uint(row) < {{r}})
                    {
                        precise float s = y[uint(row) * {{w}} + i] + values[k * {{w}} + i];
                        y[uint(row) * {{w}} + i] = s;
                    }
                }
                """);
            return new KernelSource([sb.ToString()], buffers, [width], [group], Push: push, ItemIterations: rows + Math.Min(count, chunk), Passes: passes);
        }

        GlslCode.GridLoop(sb, n, $$"""
            const int row = int(i / {{w}});
            const uint j = i % {{w}};
            precise float s = {{(passes == 1 ? "0.0" : "pass_index == 0u ? 0.0 : y[i]")}};
            for (uint k = {{begin}}; k < {{end}}; k++)
                if (index[k] == row) s = s + values[k * {{w}} + j];
            y[i] = s;
            """);
        return new KernelSource([sb.ToString()], buffers, [n], [group], Push: push, ItemIterations: Math.Min(count, chunk), Passes: passes);
    }

    public static KernelSource OneHot(OpKernelSpec spec, int group)
    {
        long depth = spec.Count;
        long count = spec.Inputs[0].Elements;
        long n = count * depth;
        var sb = GlslCode.Preamble(spec.DisplayName, group);
        GlslCode.Buffer(sb, 0, "int", "index", readOnly: true);
        GlslCode.Buffer(sb, 1, "float", "y", readOnly: false);
        GlslCode.GridLoop(sb, n, $"y[i] = (index[i / {GlslCode.UInt(depth)}] == int(i % {GlslCode.UInt(depth)})) ? 1.0 : 0.0;");
        return new KernelSource([sb.ToString()], [count, n], [n], [group]);
    }

    /// <summary>store_rows in place: an invocation per value copies it into its row (the engine binds the target as the output).</summary>
    public static KernelSource StoreRows(OpKernelSpec spec, int group)
    {
        var target = spec.Inputs[0];
        long rows = target.Shape[0];
        long width = target.Shape.Skip(1).Aggregate(1L, (a, b) => a * b);
        long n = spec.Inputs[1].Elements;
        string w = GlslCode.UInt(width);
        var sb = GlslCode.Preamble(spec.DisplayName, group);
        GlslCode.Buffer(sb, 0, "float", "target", readOnly: true);
        GlslCode.Buffer(sb, 1, "float", "values", readOnly: true);
        GlslCode.Buffer(sb, 2, "int", "index", readOnly: true);
        GlslCode.Buffer(sb, 3, "float", "y", readOnly: false);
        GlslCode.GridLoop(sb, n,
            $"const int r = index[i / {w}];\n" +
            $"if (r >= 0 && r < {rows}) y[uint(r) * {w} + i % {w}] = values[i];");
        return new KernelSource([sb.ToString()], [target.Elements, n, spec.Inputs[2].Elements, spec.Output.Elements], [Math.Max(1, n)], [group]);
    }
}

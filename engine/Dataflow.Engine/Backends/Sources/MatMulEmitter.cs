namespace Dataflow.Engine.Backends.Sources;

/// <summary>
/// How a register-blocked matmul (<see cref="MatMulEmitter.Blocked"/>) cuts C into work-items: a
/// backend's tuning for CPU drivers, which run a work-group as a loop over its work-items on one
/// thread, so local-memory tiles only add copies and barriers there.
/// </summary>
/// <param name="Rows">Rows of C per work-item (fewer when C has fewer).</param>
/// <param name="Width">
/// Lanes of the float vectors the work-item computes with: C's columns in the outer-product form,
/// K's terms in the dot-product form; 1 for scalars (a driver that vectorises across work-items).
/// </param>
/// <param name="Vectors">Vectors of columns per work-item in the outer-product form: Width·Vectors columns of C.</param>
/// <param name="DotColumns">Columns of C per work-item in the dot-product form (B transposed and Width &gt; 1).</param>
/// <param name="RowsFirst">
/// Row blocks along the first launch axis, so a group is a run of row blocks of one column block and
/// that column block's strip of B stays in cache; otherwise column blocks come first.
/// </param>
public sealed record MatMulBlocking(int Rows, int Width, int Vectors, int DotColumns, bool RowsFirst);

/// <summary>
/// Batched MatMul, C[b] = op(A[b]) · op(B[b]), for every dialect. Transposes change only how an
/// element is addressed; broadcast batch axes become a per-batch offset expression (0 when one
/// matrix serves every batch). Where a device's loop budget is finite (<see cref="LoopBudget"/>), K
/// is split into passes, each adding its chunk of K to the partial sums the previous one stored in C.
/// Two shapes; a backend's kernel plan picks one:
/// <list type="bullet">
/// <item><see cref="Tiled"/> (GPUs): a T×T group computes a T×T block of C, staging T×T blocks of A
/// and B through shared memory per step along K; edge tiles are padded with zeros, so odd sizes need
/// no second kernel. Products are added as written (contracted into fma only where the language allows).</item>
/// <item><see cref="Blocked"/> (CPU drivers): no shared memory or barriers; each work-item owns a block
/// of C in registers (<see cref="MatMulBlocking"/>) and walks all of K itself, so each element it
/// loads feeds several multiply-adds. Edge blocks clamp their row and column indices (every load stays
/// inside the operand) and skip the stores that fall outside C. Products accumulate through fma, as
/// the CPU's GEMM does.</item>
/// </list>
/// The sums run in a different order from the CPU backend's GEMM: a few ulps of a K-term dot product.
/// </summary>
public static class MatMulEmitter
{
    /// <param name="tile">Tile edge; the backend picks it from the device's group-size limits (T² work-items).</param>
    /// <param name="budget">Loop iterations a work-item may run (<see cref="LoopBudget"/>).</param>
    public static EmittedKernel Tiled(OpKernelSpec spec, CDialect d, int tile, long budget)
    {
        var g = Geometry.Of(spec, d, budget);
        string ix = d.IndexType, t = d.Index(tile), zero = d.Float(0f);
        string body = $$"""
            const {{ix}} col = wx * {{t}} + lx;
            const {{ix}} row = wy * {{t}} + ly;
            const {{ix}} batch = gz;
            const {{ix}} aBase = {{g.ABase}};
            const {{ix}} bBase = {{g.BBase}};
            const {{ix}} cAt = batch * {{d.Index(g.M * g.N)}} + row * {{g.Ns}} + col;
            float acc = {{g.Resume($"row < {g.Ms} && col < {g.Ns}", "c[cAt]")}};
            const {{ix}} kEnd = {{g.KEnd}};
            for ({{ix}} k0 = {{g.KBegin}}; k0 < kEnd; k0 += {{t}})
            {
                const {{ix}} ka = k0 + lx, kb = k0 + ly;
                at[ly][lx] = (row < {{g.Ms}} && ka < kEnd) ? {{g.A("row", "ka")}} : {{zero}};
                bt[ly][lx] = (kb < kEnd && col < {{g.Ns}}) ? {{g.B("kb", "col")}} : {{zero}};
                {{Indent(d.Barrier, "    ")}}
                for ({{ix}} kk = {{d.Index(0)}}; kk < {{t}}; kk++) acc += at[ly][kk] * bt[kk][lx];
                {{Indent(d.Barrier, "    ")}}
            }
            if (row < {{g.Ms}} && col < {{g.Ns}}) c[cAt] = acc;
            """;
        long Round(long v) => (v + tile - 1) / tile * tile;
        SharedArray[] tiles = [new("float", "at", [tile, tile + 1]), new("float", "bt", [tile, tile + 1])];
        var kernel = new GridKernel("matmul", Buffers, body, Group: [tile, tile, 1], Shared: tiles, Scalars: g.Scalars);
        return new([kernel], g.BufferElements, [Round(g.N), Round(g.M), g.Batch], g.Push, Passes: g.Passes);
    }

    /// <param name="blocking">The block of C per work-item: the backend's plan.</param>
    /// <param name="budget">Loop iterations a work-item may run (<see cref="LoopBudget"/>).</param>
    public static EmittedKernel Blocked(OpKernelSpec spec, CDialect d, MatMulBlocking blocking, long budget)
    {
        var g = Geometry.Of(spec, d, budget);
        int w = blocking.Width, rows = (int)Math.Clamp(g.M, 1, blocking.Rows);
        // B transposed has K as its inner axis: dot products along K load both operands as vectors.
        bool dot = g.Tb && w > 1;
        int vectors = (int)Math.Clamp((g.N + w - 1) / w, 1, blocking.Vectors);
        int cols = dot ? (int)Math.Clamp(g.N, 1, blocking.DotColumns) : w * vectors;
        long rowBlocks = (g.M + rows - 1) / rows, colBlocks = (g.N + cols - 1) / cols;
        string ix = d.IndexType;

        var sb = new System.Text.StringBuilder();
        sb.AppendLine($"const {ix} rb = {(blocking.RowsFirst ? "gx" : "gy")}, cb = {(blocking.RowsFirst ? "gy" : "gx")}, batch = gz;");
        sb.AppendLine($"if (rb >= {d.Index(rowBlocks)} || cb >= {d.Index(colBlocks)}) return;");
        sb.AppendLine($"const {ix} row0 = rb * {d.Index(rows)}, col0 = cb * {d.Index(cols)};");
        sb.AppendLine($"const {ix} aBase = {g.ABase};");
        sb.AppendLine($"const {ix} bBase = {g.BBase};");
        sb.AppendLine($"const {ix} cBase = batch * {d.Index(g.M * g.N)};");
        // Rows and columns past the edge repeat the last one: their loads stay in bounds, their stores are skipped.
        for (int r = 0; r < rows; r++) sb.AppendLine($"const {ix} r{r} = min(row0 + {d.Index(r)}, {g.Last(g.M)});");
        for (int j = 0; j < cols; j++) sb.AppendLine($"const {ix} c{j} = min(col0 + {d.Index(j)}, {g.Last(g.N)});");
        sb.AppendLine($"const {ix} kEnd = {g.KEnd};");
        if (dot) DotProducts(sb, g, w, rows, cols);
        else OuterProducts(sb, g, w, rows, vectors, cols);

        var kernel = new GridKernel("matmul", Buffers, sb.ToString().TrimEnd(), Scalars: g.Scalars);
        long[] global = blocking.RowsFirst ? [rowBlocks, colBlocks, g.Batch] : [colBlocks, rowBlocks, g.Batch];
        return new([kernel], g.BufferElements, global, g.Push, Passes: g.Passes);
    }

    private static readonly KernelBuffer[] Buffers = [new("float", "a", ReadOnly: true), new("float", "b", ReadOnly: true), new("float", "c")];

    /// <summary>Per k, a vector of a row of B per column vector and a broadcast of A per row: rows × vectors accumulators.</summary>
    private static void OuterProducts(System.Text.StringBuilder sb, Geometry g, int w, int rows, int vectors, int cols)
    {
        var d = g.D;
        string vt = d.VectorType(w);
        for (int r = 0; r < rows; r++)
            for (int v = 0; v < vectors; v++)
                sb.AppendLine($"{vt} acc{r}_{v} = {g.VectorResume(w, $"cBase + r{r} * {g.Ns}", v * w)};");

        // Whole column blocks read B's columns as they are; the last, partial block (if N is not a
        // multiple of the block) reads clamped columns instead. Only that block takes the branch.
        string Body(bool whole)
        {
            var body = new System.Text.StringBuilder();
            body.AppendLine($"for ({d.IndexType} kk = {g.KBegin}; kk < kEnd; kk++)");
            body.AppendLine("{");
            for (int v = 0; v < vectors; v++)
            {
                string load = whole && !g.Tb
                    ? d.VectorLoad(w, "b", $"bBase + kk * {g.Ns} + col0 + {d.Index(v * w)}")
                    : d.VectorOf([.. Enumerable.Range(v * w, w).Select(j => g.B("kk", whole ? $"col0 + {d.Index(j)}" : $"c{j}"))]);
                body.AppendLine($"    const {vt} b{v} = {load};");
            }
            for (int r = 0; r < rows; r++)
            {
                body.AppendLine($"    const float a{r} = {g.A($"r{r}", "kk")};");
                for (int v = 0; v < vectors; v++) body.AppendLine($"    acc{r}_{v} = {d.MulAdd(d.Splat(w, $"a{r}"), $"b{v}", $"acc{r}_{v}")};");
            }
            body.Append('}');
            return body.ToString();
        }

        long wholeBlocks = g.N / cols;
        if (g.N % cols == 0) sb.AppendLine("{").AppendLine(Indent(Body(true), "    ", first: true)).AppendLine("}");
        else if (wholeBlocks == 0) sb.AppendLine("{").AppendLine(Indent(Body(false), "    ", first: true)).AppendLine("}");
        else
            sb.AppendLine($"if (cb < {d.Index(wholeBlocks)})").AppendLine("{").AppendLine(Indent(Body(true), "    ", first: true))
              .AppendLine("}").AppendLine("else").AppendLine("{").AppendLine(Indent(Body(false), "    ", first: true)).AppendLine("}");

        // Stores: whole blocks of rows inside C write vectors; anything at an edge goes lane by lane.
        sb.AppendLine($"const bool wholeColumns = col0 + {d.Index(cols)} <= {g.Ns};");
        for (int r = 0; r < rows; r++)
        {
            sb.AppendLine($"if (row0 + {d.Index(r)} < {g.Ms})");
            sb.AppendLine("{");
            sb.AppendLine($"    const {d.IndexType} o{r} = cBase + (row0 + {d.Index(r)}) * {g.Ns} + col0;");
            sb.AppendLine("    if (wholeColumns)");
            sb.AppendLine("    {");
            for (int v = 0; v < vectors; v++) sb.AppendLine($"        {d.VectorStore(w, $"acc{r}_{v}", "c", $"o{r} + {d.Index(v * w)}")}");
            sb.AppendLine("    }");
            sb.AppendLine("    else");
            sb.AppendLine("    {");
            for (int v = 0; v < vectors; v++)
                for (int i = 0; i < w; i++)
                    sb.AppendLine($"        if (col0 + {d.Index(v * w + i)} < {g.Ns}) c[o{r} + {d.Index(v * w + i)}] = {d.Lane(w, $"acc{r}_{v}", i)};");
            sb.AppendLine("    }");
            sb.AppendLine("}");
        }
    }

    /// <summary>
    /// B transposed: both operands are contiguous along K, so per <c>w</c> terms of K one vector per row
    /// of A and per column of C; the rows × cols vector partial sums are folded pairwise at the end and
    /// the K mod w tail is added one term at a time.
    /// </summary>
    private static void DotProducts(System.Text.StringBuilder sb, Geometry g, int w, int rows, int cols)
    {
        var d = g.D;
        string vt = d.VectorType(w), ix = d.IndexType;
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < cols; j++)
                sb.AppendLine($"{vt} acc{r}_{j} = {d.Splat(w, d.Float(0f))};");
        // The vector loop's end: a literal when K is one pass.
        string vecEnd = g.Passes == 1 ? d.Index(g.K / w * w) : $"{g.KBegin} + (kEnd - {g.KBegin}) / {d.Index(w)} * {d.Index(w)}";
        sb.AppendLine($"const {ix} kVec = {vecEnd};");
        sb.AppendLine($"for ({ix} kk = {g.KBegin}; kk < kVec; kk += {d.Index(w)})");
        sb.AppendLine("{");
        for (int j = 0; j < cols; j++) sb.AppendLine($"    const {vt} b{j} = {d.VectorLoad(w, "b", $"bBase + c{j} * {g.Ks} + kk")};");
        for (int r = 0; r < rows; r++)
        {
            // A transposed has K as its outer axis, so its w values along K are a gather.
            string load = g.Ta
                ? d.VectorOf([.. Enumerable.Range(0, w).Select(i => g.A($"r{r}", $"kk + {d.Index(i)}"))])
                : d.VectorLoad(w, "a", $"aBase + r{r} * {g.Ks} + kk");
            sb.AppendLine($"    const {vt} a{r} = {load};");
            for (int j = 0; j < cols; j++) sb.AppendLine($"    acc{r}_{j} = {d.MulAdd($"a{r}", $"b{j}", $"acc{r}_{j}")};");
        }
        sb.AppendLine("}");

        for (int r = 0; r < rows; r++)
            for (int j = 0; j < cols; j++)
            {
                var (steps, fold) = d.LaneSum(w, $"acc{r}_{j}", $"half{r}_{j}");
                if (steps.Length > 0) sb.AppendLine(steps);
                string start = g.Passes > 1 ? $"{g.Resume("true", $"c[cBase + r{r} * {g.Ns} + c{j}]")} + {fold}" : fold;
                sb.AppendLine($"float s{r}_{j} = {start};");
            }
        sb.AppendLine($"for ({ix} kk = kVec; kk < kEnd; kk++)");
        sb.AppendLine("{");
        for (int j = 0; j < cols; j++) sb.AppendLine($"    const float b{j} = {g.B("kk", $"c{j}")};");
        for (int r = 0; r < rows; r++)
        {
            sb.AppendLine($"    const float a{r} = {g.A($"r{r}", "kk")};");
            for (int j = 0; j < cols; j++) sb.AppendLine($"    s{r}_{j} = {d.MulAdd($"a{r}", $"b{j}", $"s{r}_{j}")};");
        }
        sb.AppendLine("}");

        for (int r = 0; r < rows; r++)
        {
            sb.AppendLine($"if (row0 + {d.Index(r)} < {g.Ms})");
            sb.AppendLine("{");
            for (int j = 0; j < cols; j++)
                sb.AppendLine($"    if (col0 + {d.Index(j)} < {g.Ns}) c[cBase + (row0 + {d.Index(r)}) * {g.Ns} + col0 + {d.Index(j)}] = s{r}_{j};");
            sb.AppendLine("}");
        }
    }

    private static string Indent(string text, string indent, bool first = false) =>
        (first ? indent : "") + text.Replace("\n", "\n" + indent);

    /// <summary>
    /// Sizes (as numbers and literals), batch offsets and element addressing of one matmul spec, and
    /// the passes K is split into where the loop budget is finite.
    /// </summary>
    private sealed record Geometry(CDialect D, long M, long N, long K, long Batch, bool Ta, bool Tb, string ABase, string BBase, long[] BufferElements, long Chunk, int Passes)
    {
        public string Ms => D.Index(M);
        public string Ns => D.Index(N);
        public string Ks => D.Index(K);

        /// <summary>Index <paramref name="size"/> − 1 in the index type, for clamping.</summary>
        public string Last(long size) => D.Convert(D.IndexType, D.Index(size - 1));

        public LaunchScalars Push => Passes > 1 ? LaunchScalars.Pass : LaunchScalars.None;
        public KernelScalar[]? Scalars => Passes > 1 ? [new("uint", "pass_index")] : null;

        private string Pass => D.Convert(D.IndexType, "pass_index");
        public string KBegin => Passes > 1 ? $"{Pass} * {D.Index(Chunk)}" : D.Index(0);
        public string KEnd => Passes > 1 ? $"min({Ks}, {Pass} * {D.Index(Chunk)} + {D.Index(Chunk)})" : Ks;

        /// <summary>The starting value of a sum: 0, or after the first pass what the previous one stored (where <paramref name="inBounds"/>).</summary>
        public string Resume(string inBounds, string stored) =>
            Passes > 1 ? $"({Pass} > {D.Index(0)} && {inBounds}) ? {stored} : {D.Float(0f)}" : D.Float(0f);

        /// <summary>The starting value of a vector of C's columns <paramref name="first"/>… of the row at <paramref name="rowStart"/> (clamped columns).</summary>
        public string VectorResume(int width, string rowStart, int first) => Passes > 1
            ? D.VectorOf([.. Enumerable.Range(first, width).Select(j => $"({Resume("true", $"c[{rowStart} + c{j}]")})")])
            : D.Splat(width, D.Float(0f));

        // A is [.., M, K] or, transposed, [.., K, M]; B is [.., K, N] or, transposed, [.., N, K].
        public string A(string row, string col) => Ta ? $"a[aBase + ({col}) * {Ms} + {row}]" : $"a[aBase + {row} * {Ks} + ({col})]";
        public string B(string row, string col) => Tb ? $"b[bBase + ({col}) * {Ks} + {row}]" : $"b[bBase + ({row}) * {Ns} + {col}]";

        public static Geometry Of(OpKernelSpec spec, CDialect d, long budget)
        {
            var (x, y, z) = (spec.Inputs[0].Shape, spec.Inputs[1].Shape, spec.Output.Shape);
            if (x.Length < 2 || y.Length < 2 || z.Length < 2)
                throw new ArgumentException($"matmul: operands must have rank 2 or more, got {spec.Inputs[0]} and {spec.Inputs[1]}");
            bool ta = spec.Attrs.TransposeA, tb = spec.Attrs.TransposeB;
            long m = z[^2], n = z[^1], k = ta ? x[^2] : x[^1];
            var batchShape = z[..^2];
            long batch = batchShape.Aggregate(1L, (p, q) => p * q);
            return new Geometry(d, m, n, k, batch, ta, tb, Base(d, x[..^2], batchShape, m * k), Base(d, y[..^2], batchShape, k * n),
                [spec.Inputs[0].Elements, spec.Inputs[1].Elements, spec.Output.Elements], LoopBudget.Chunk(budget), LoopBudget.Passes(k, budget));
        }

        /// <summary>The first element of batch <c>batch</c>'s matrix in an operand whose batch axes broadcast to the output's.</summary>
        private static string Base(CDialect d, long[] operandBatch, long[] outputBatch, long matrixSize)
        {
            string index = d.BroadcastIndex("batch", operandBatch, outputBatch);
            return index == d.Index(0) ? d.Index(0) : $"({index}) * {d.Index(matrixSize)}";
        }
    }
}

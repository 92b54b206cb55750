using Dataflow.Engine.Backends;
using Dataflow.Engine.Backends.Sources;

namespace Dataflow.Backends.Vulkan.Sources;

/// <summary>
/// Batched MatMul, C[b] = op(A[b]) · op(B[b]). Transposes change only how an element is addressed;
/// broadcast batch axes become a per-batch offset expression (0 when one matrix serves every batch).
/// Two shapes, chosen by the <see cref="KernelPlan"/>:
/// <list type="bullet">
/// <item>Tiled (GPUs): a T×T group computes a T×T block of C, staging T×T blocks of A and B through
/// shared memory per step along K; edge tiles are padded with zeros so odd sizes need no second shader.</item>
/// <item>Blocked (CPU drivers, which run a group as a loop vectorised across invocations): no shared
/// memory or barriers; each invocation owns a <see cref="Rows"/>×<see cref="Cols"/> block of C in
/// registers and walks all of K, so each element it loads feeds 8 multiply-adds. A CPU driver loads
/// a per-invocation address one lane at a time (lavapipe: a loop over the lanes per load), so loads,
/// not arithmetic, bound the speed. Measured on lavapipe, 128×784·784×512 under load: 440 ms with
/// a 4×1 block, 125 ms with 8×8 (16×8 is no faster).</item>
/// </list>
/// Products accumulate without <c>precise</c>, so the driver may fuse them into fma as the CPU's GEMM
/// does; the sums run in a different order from the CPU's, a few ulps of a K-term dot product.
/// </summary>
internal static class MatMulSource
{
    /// <summary>Rows of C per invocation in the blocked shape (fewer when C has fewer).</summary>
    public const int Rows = 8;

    /// <summary>Columns of C per invocation in the blocked shape (fewer when C has fewer).</summary>
    public const int Cols = 8;

    public static KernelSource Tiled(OpKernelSpec spec, int tile, long budget)
    {
        var g = Geometry.Of(spec, budget);
        var sb = GlslCode.Preamble(spec.DisplayName, tile, tile);
        Bindings(sb, g);
        sb.Append($$"""
            #define T {{tile}}u
            shared float at[T][T + 1u];
            shared float bt[T][T + 1u];
            void main()
            {
                const uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y;
                const uint col = gl_WorkGroupID.x * T + tx;
                const uint row = gl_WorkGroupID.y * T + ty;
                const uint batch = gl_WorkGroupID.z;
                const uint aBase = {{g.ABase}};
                const uint bBase = {{g.BBase}};
                const uint cAt = batch * {{GlslCode.UInt(g.Rows * g.Cols)}} + row * {{g.N}} + col;
                float acc = {{g.Resume("row < " + g.M + " && col < " + g.N, "c[cAt]")}};
                const uint kEnd = {{g.KEnd}};
                for (uint k0 = {{g.KBegin}}; k0 < kEnd; k0 += T)
                {
                    const uint ka = k0 + tx, kb = k0 + ty;
                    at[ty][tx] = (row < {{g.M}} && ka < kEnd) ? {{g.A("row", "ka")}} : 0.0;
                    bt[ty][tx] = (kb < kEnd && col < {{g.N}}) ? {{g.B("kb", "col")}} : 0.0;
                    memoryBarrierShared();
                    barrier();
                    for (uint kk = 0u; kk < T; kk++) acc += at[ty][kk] * bt[kk][tx];
                    memoryBarrierShared();
                    barrier();
                }
                if (row < {{g.M}} && col < {{g.N}}) c[cAt] = acc;
            }

            """);
        long Round(long v) => (v + tile - 1) / tile * tile;
        return new KernelSource([sb.ToString()], g.Buffers, [Round(g.Cols), Round(g.Rows), g.Batch], [tile, tile, 1], GridStride: false,
            Push: g.Push, Passes: g.Passes);
    }

    public static KernelSource Blocked(OpKernelSpec spec, int group, long budget)
    {
        var g = Geometry.Of(spec, budget);
        var sb = GlslCode.Preamble(spec.DisplayName, group);
        Bindings(sb, g);
        int rows = (int)Math.Clamp(g.Rows, 1, Rows), cols = (int)Math.Clamp(g.Cols, 1, Cols);
        var rr = Enumerable.Range(0, rows).ToArray();
        var cc = Enumerable.Range(0, cols).ToArray();
        string Lines(IEnumerable<string> lines, string indent) => string.Join("\n", lines.Select(l => indent + l));
        sb.Append($$"""
            void main()
            {
                const uint firstCol = gl_GlobalInvocationID.x * {{cols}}u;
                const uint firstRow = gl_GlobalInvocationID.y * {{rows}}u;
                const uint batch = gl_GlobalInvocationID.z;
                if (firstCol >= {{g.N}}) return;
                const uint aBase = {{g.ABase}};
                const uint bBase = {{g.BBase}};
                const uint cBase = batch * {{GlslCode.UInt(g.Rows * g.Cols)}};
                // Rows and columns past the edge read the last one (in bounds) and are not stored.
            {{Lines(rr.Select(r => $"const uint row{r} = min(firstRow + {r}u, {g.M} - 1u);"), "    ")}}
            {{Lines(cc.Select(c => $"const uint col{c} = min(firstCol + {c}u, {g.N} - 1u);"), "    ")}}
            {{Lines(rr.SelectMany(r => cc.Select(c => $"float acc{r}_{c} = {g.Resume("true", $"c[cBase + row{r} * {g.N} + col{c}]")};")), "    ")}}
                for (uint k = {{g.KBegin}}; k < {{g.KEnd}}; k++)
                {
            {{Lines(rr.Select(r => $"const float a{r} = {g.A($"row{r}", "k")};"), "        ")}}
            {{Lines(cc.Select(c => $"const float b{c} = {g.B("k", $"col{c}")};"), "        ")}}
            {{Lines(rr.SelectMany(r => cc.Select(c => $"acc{r}_{c} += a{r} * b{c};")), "        ")}}
                }
            {{Lines(rr.SelectMany(r => cc.Select(c => $"if (firstRow + {r}u < {g.M} && firstCol + {c}u < {g.N}) c[cBase + (firstRow + {r}u) * {g.N} + firstCol + {c}u] = acc{r}_{c};")), "    ")}}
            }

            """);
        return new KernelSource([sb.ToString()], g.Buffers, [(g.Cols + cols - 1) / cols, (g.Rows + rows - 1) / rows, g.Batch], [group, 1, 1], GridStride: false,
            Push: g.Push, Passes: g.Passes);
    }

    private static void Bindings(System.Text.StringBuilder sb, Geometry g)
    {
        GlslCode.Buffer(sb, 0, "float", "a", readOnly: true);
        GlslCode.Buffer(sb, 1, "float", "b", readOnly: true);
        GlslCode.Buffer(sb, 2, "float", "c", readOnly: false);
        if (g.Passes > 1) sb.AppendLine("layout(push_constant) uniform Pass { uint pass_index; };");
    }

    /// <summary>
    /// Sizes (as literals and numbers), batch offsets and element addressing of one matmul spec, and
    /// the passes K is split into where the loop budget is finite: each pass adds its chunk of K to
    /// the partial sums the previous pass stored in C.
    /// </summary>
    private sealed record Geometry(long Rows, long Cols, long Depth, long Batch, bool Ta, bool Tb, string ABase, string BBase, long[] Buffers, long Chunk, int Passes)
    {
        public LaunchScalars Push => Passes > 1 ? LaunchScalars.Pass : LaunchScalars.None;
        public string KBegin => Passes > 1 ? $"pass_index * {GlslCode.UInt(Chunk)}" : "0u";
        public string KEnd => Passes > 1 ? $"min({K}, pass_index * {GlslCode.UInt(Chunk)} + {GlslCode.UInt(Chunk)})" : K;

        /// <summary>The starting value of a sum: 0, or after the first pass what the previous one stored (where <paramref name="inBounds"/>).</summary>
        public string Resume(string inBounds, string stored) => Passes > 1 ? $"(pass_index > 0u && {inBounds}) ? {stored} : 0.0" : "0.0";

        public string M => GlslCode.UInt(Rows);
        public string N => GlslCode.UInt(Cols);
        public string K => GlslCode.UInt(Depth);

        // A is [.., M, K] or, transposed, [.., K, M]; B is [.., K, N] or, transposed, [.., N, K].
        public string A(string row, string col) => Ta ? $"a[aBase + {col} * {M} + {row}]" : $"a[aBase + {row} * {K} + {col}]";
        public string B(string row, string col) => Tb ? $"b[bBase + {col} * {K} + {row}]" : $"b[bBase + {row} * {N} + {col}]";

        public static Geometry Of(OpKernelSpec spec, long budget)
        {
            var (x, y, z) = (spec.Inputs[0].Shape, spec.Inputs[1].Shape, spec.Output.Shape);
            if (x.Length < 2 || y.Length < 2 || z.Length < 2)
                throw new ArgumentException($"matmul: operands must have rank 2 or more, got {spec.Inputs[0]} and {spec.Inputs[1]}");
            bool ta = spec.Attrs.TransposeA, tb = spec.Attrs.TransposeB;
            long m = z[^2], n = z[^1], k = ta ? x[^2] : x[^1];
            var batchShape = z[..^2];
            long batch = batchShape.Aggregate(1L, (p, d) => p * d);
            return new Geometry(m, n, k, batch, ta, tb, Base(x[..^2], batchShape, m * k), Base(y[..^2], batchShape, k * n),
                [spec.Inputs[0].Elements, spec.Inputs[1].Elements, spec.Output.Elements],
                LoopBudget.Chunk(budget), LoopBudget.Passes(k, budget));
        }

        /// <summary>The first element of batch <c>batch</c>'s matrix in an operand whose batch axes broadcast to the output's.</summary>
        private static string Base(long[] operandBatch, long[] outputBatch, long matrixSize)
        {
            string index = GlslCode.BroadcastIndex("batch", operandBatch, outputBatch);
            return index == "0u" ? "0u" : $"({index}) * {GlslCode.UInt(matrixSize)}";
        }
    }
}

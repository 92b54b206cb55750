using Dataflow.Engine.Backends;

namespace Dataflow.Backends.OpenCL.Sources;

/// <summary>
/// Batched MatMul, C[b] = op(A[b]) · op(B[b]), tiled through local memory: a T×T group computes a
/// T×T block of C, staging T×T blocks of A and B per step along K. Edge tiles are padded with zeros
/// so odd sizes need no second kernel. Transposes change only how a tile is loaded; broadcast batch
/// axes become a per-batch offset expression (0 when one matrix serves every batch).
/// </summary>
internal static class MatMulSource
{
    /// <param name="tile">Tile edge; the backend picks it from the device's group-size limits (T² work-items).</param>
    public static KernelSource Generate(OpKernelSpec spec, int tile)
    {
        var (x, y, z) = (spec.Inputs[0].Shape, spec.Inputs[1].Shape, spec.Output.Shape);
        if (x.Length < 2 || y.Length < 2 || z.Length < 2)
            throw new ArgumentException($"matmul: operands must have rank 2 or more, got {spec.Inputs[0]} and {spec.Inputs[1]}");
        bool ta = spec.Attrs.TransposeA, tb = spec.Attrs.TransposeB;
        long m = z[^2], n = z[^1], k = ta ? x[^2] : x[^1];
        var batchShape = z[..^2];
        long batch = batchShape.Aggregate(1L, (p, d) => p * d);

        string aBase = Base(x[..^2], batchShape, m * k);
        string bBase = Base(y[..^2], batchShape, k * n);
        // A is [.., M, K] or, transposed, [.., K, M]; B is [.., K, N] or, transposed, [.., N, K].
        string aAt(string row, string col) => ta ? $"a[aBase + {col} * {m} + {row}]" : $"a[aBase + {row} * {k} + {col}]";
        string bAt(string row, string col) => tb ? $"b[bBase + {col} * {k} + {row}]" : $"b[bBase + {row} * {n} + {col}]";

        var sb = ClCode.Preamble(spec.Key, ClCode.Wide(spec.Inputs[0].Elements, spec.Inputs[1].Elements, spec.Output.Elements));
        sb.Append($$"""
            #define T {{tile}}
            __kernel __attribute__((reqd_work_group_size(T, T, 1)))
            void matmul(__global const float* a, __global const float* b, __global float* c)
            {
                const int tx = get_local_id(0), ty = get_local_id(1);
                const idx_t col = (idx_t)get_group_id(0) * T + tx;
                const idx_t row = (idx_t)get_group_id(1) * T + ty;
                const idx_t batch = get_global_id(2);
                const idx_t aBase = {{aBase}};
                const idx_t bBase = {{bBase}};
                __local float at[T][T + 1];
                __local float bt[T][T + 1];
                float acc = 0.0f;
                for (idx_t k0 = 0; k0 < {{k}}; k0 += T)
                {
                    const idx_t ka = k0 + tx, kb = k0 + ty;
                    at[ty][tx] = (row < {{m}} && ka < {{k}}) ? {{aAt("row", "ka")}} : 0.0f;
                    bt[ty][tx] = (kb < {{k}} && col < {{n}}) ? {{bAt("kb", "col")}} : 0.0f;
                    barrier(CLK_LOCAL_MEM_FENCE);
                    for (int kk = 0; kk < T; kk++) acc += at[ty][kk] * bt[kk][tx];
                    barrier(CLK_LOCAL_MEM_FENCE);
                }
                if (row < {{m}} && col < {{n}}) c[batch * {{m * n}} + row * {{n}} + col] = acc;
            }

            """);

        long Round(long v) => (v + tile - 1) / tile * tile;
        return new KernelSource(sb.ToString(), ["matmul"],
            [spec.Inputs[0].Elements, spec.Inputs[1].Elements, spec.Output.Elements],
            Global: [Round(n), Round(m), batch], Local: [tile, tile, 1]);
    }

    /// <summary>The first element of batch <c>batch</c>'s matrix in an operand whose batch axes broadcast to the output's.</summary>
    internal static string Base(long[] operandBatch, long[] outputBatch, long matrixSize)
    {
        string index = ClCode.BroadcastIndex("batch", operandBatch, outputBatch);
        return index == "0" ? "0" : $"({index}) * {ClCode.Int(matrixSize)}";
    }
}

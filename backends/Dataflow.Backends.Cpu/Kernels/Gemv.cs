using System.Numerics.Tensors;

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// Matrix-vector products (one row of C, or one column): packing would copy as much memory as the
/// product reads, so these stream the matrix once instead. This is the decode step of generation
/// (one token through every projection) and the N = 1 heads of small models.
/// </summary>
internal static unsafe class Gemv
{
    private const int ColumnWidth = 512;

    /// <summary>Whether <see cref="Run"/> handles this shape without packing.</summary>
    public static bool Applies(int m, int n, in Gemm.Operand a, in Gemm.Operand b) =>
        (m == 1 && a.ColStride == 1 && (b.ColStride == 1 || b.RowStride == 1)) ||
        (n == 1 && a.ColStride == 1 && b.RowStride == 1);

    public static void Run(int batch, int m, int n, int k, float* a, in Gemm.Operand opA, float* b, in Gemm.Operand opB, float* c)
    {
        var (aOffsets, rsA, _) = opA;
        var (bOffsets, rsB, csB) = opB;
        if (m == 1 && csB == 1)
        {
            // c = a · B with B rows contiguous: accumulate scaled rows of B over column strips.
            int strips = (n + ColumnWidth - 1) / ColumnWidth;
            Par.For(batch * strips, 2L * k * Math.Min(n, ColumnWidth), (first, last) =>
            {
                for (int t = first; t < last; t++)
                {
                    int bi = t / strips, j0 = t % strips * ColumnWidth, w = Math.Min(ColumnWidth, n - j0);
                    float* x = a + (aOffsets is null ? 0 : aOffsets[bi]);
                    float* rows = b + (bOffsets is null ? 0 : bOffsets[bi]) + j0;
                    var acc = new Span<float>(c + (long)bi * n + j0, w);
                    acc.Clear();
                    for (int p = 0; p < k; p++)
                        TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(rows + p * rsB, w), x[p], acc, acc);
                }
            });
            return;
        }

        // One dot product per output element: a row of A with a column of B, both contiguous in k.
        int outputs = m * n;
        Par.For(batch * outputs, 2L * k, (first, last) =>
        {
            for (int t = first; t < last; t++)
            {
                int bi = t / outputs, o = t % outputs;
                int i = m == 1 ? 0 : o, j = m == 1 ? o : 0;
                float* row = a + (aOffsets is null ? 0 : aOffsets[bi]) + i * rsA;
                float* col = b + (bOffsets is null ? 0 : bOffsets[bi]) + j * csB;
                c[(long)bi * outputs + o] = TensorPrimitives.Dot(new ReadOnlySpan<float>(row, k), new ReadOnlySpan<float>(col, k));
            }
        });
    }
}

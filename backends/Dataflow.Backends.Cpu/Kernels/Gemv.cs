using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// Matrix-vector products (one row of C, or one column): packing would copy as much memory as the
/// product reads, so these stream the matrix once instead. This is the decode step of generation
/// (one token through every projection) and the N = 1 heads of small models. A few rows (a batched
/// decode step: one token per sequence) against a wide matrix with contiguous rows stream it once too,
/// a register-blocked strip of 16 columns at a time, instead of packing it (which reads and writes it
/// again before the product reads it a third time).
/// </summary>
internal static unsafe class Gemv
{
    private const int ColumnWidth = 512;

    /// <summary>The most rows of A the streaming path takes; beyond, packing pays for itself.</summary>
    public const int MaxStreamedRows = 16;

    private const int StripWidth = 16;

    /// <summary>Whether <see cref="Run"/> handles this shape without packing.</summary>
    public static bool Applies(int m, int n, in Gemm.Operand a, in Gemm.Operand b) =>
        (m == 1 && a.ColStride == 1 && (b.ColStride == 1 || b.RowStride == 1)) ||
        (n == 1 && a.ColStride == 1 && b.RowStride == 1) ||
        (m <= MaxStreamedRows && n >= 4 * StripWidth && a.ColStride == 1 && (b.ColStride == 1 || b.RowStride == 1) && Fma.IsSupported);

    public static void Run(int batch, int m, int n, int k, float* a, in Gemm.Operand opA, float* b, in Gemm.Operand opB, float* c)
    {
        var (aOffsets, rsA, _) = opA;
        var (bOffsets, rsB, csB) = opB;
        if (m > 1 && n > 1)
        {
            if (csB == 1) StreamRows(batch, m, n, k, a, opA, b, opB, c);
            else StreamRowsTransposed(batch, m, n, k, a, opA, b, opB, c);
            return;
        }
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

    /// <summary>
    /// C [m, n] = A [m, k] · B [k, n] for a few rows, B rows contiguous: each task owns strips of 16
    /// columns and walks B down them once, keeping 4 rows × 16 columns of C in registers (the strip of
    /// B, 64 bytes a row, stays in L1/L2 for the next 4 rows). The sum over k runs in order, like the
    /// row-at-a-time path.
    /// </summary>
    private static void StreamRows(int batch, int m, int n, int k, float* a, in Gemm.Operand opA, float* b, in Gemm.Operand opB, float* c)
    {
        var (aOffsets, rsA, _) = opA;
        var (bOffsets, rsB, _) = opB;
        int strips = (n + StripWidth - 1) / StripWidth;
        Par.For(batch * strips, 2L * k * m * StripWidth, (first, last) =>
        {
            for (int t = first; t < last; t++)
            {
                int bi = t / strips, j0 = t % strips * StripWidth;
                float* aBase = a + (aOffsets is null ? 0 : aOffsets[bi]);
                float* bBase = b + (bOffsets is null ? 0 : bOffsets[bi]) + j0;
                float* cBase = c + (long)bi * m * n + j0;
                if (j0 + StripWidth > n)
                {
                    for (int i = 0; i < m; i++)
                        for (int j = 0; j < n - j0; j++)
                        {
                            float sum = 0;
                            for (int p = 0; p < k; p++) sum += aBase[i * rsA + p] * bBase[p * rsB + j];
                            cBase[(long)i * n + j] = sum;
                        }
                    continue;
                }
                int i0 = 0;
                for (; i0 + 4 <= m; i0 += 4) FourRows(k, aBase + i0 * rsA, rsA, bBase, rsB, cBase + (long)i0 * n, n);
                for (; i0 < m; i0++) OneRow(k, aBase + i0 * rsA, bBase, rsB, cBase + (long)i0 * n);
            }
        });
    }

    private static void FourRows(int k, float* a, long rsA, float* b, long rsB, float* c, long ldc)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        float* a0 = a, a1 = a + rsA, a2 = a + 2 * rsA, a3 = a + 3 * rsA;
        for (int p = 0; p < k; p++)
        {
            float* row = b + p * rsB;
            var b0 = Avx.LoadVector256(row);
            var b1 = Avx.LoadVector256(row + 8);
            var x = Vector256.Create(a0[p]);
            c00 = Fma.MultiplyAdd(x, b0, c00); c01 = Fma.MultiplyAdd(x, b1, c01);
            x = Vector256.Create(a1[p]);
            c10 = Fma.MultiplyAdd(x, b0, c10); c11 = Fma.MultiplyAdd(x, b1, c11);
            x = Vector256.Create(a2[p]);
            c20 = Fma.MultiplyAdd(x, b0, c20); c21 = Fma.MultiplyAdd(x, b1, c21);
            x = Vector256.Create(a3[p]);
            c30 = Fma.MultiplyAdd(x, b0, c30); c31 = Fma.MultiplyAdd(x, b1, c31);
        }
        Avx.Store(c, c00); Avx.Store(c + 8, c01);
        Avx.Store(c + ldc, c10); Avx.Store(c + ldc + 8, c11);
        Avx.Store(c + 2 * ldc, c20); Avx.Store(c + 2 * ldc + 8, c21);
        Avx.Store(c + 3 * ldc, c30); Avx.Store(c + 3 * ldc + 8, c31);
    }

    private static void OneRow(int k, float* a, float* b, long rsB, float* c)
    {
        Vector256<float> c0 = default, c1 = default;
        for (int p = 0; p < k; p++)
        {
            float* row = b + p * rsB;
            var x = Vector256.Create(a[p]);
            c0 = Fma.MultiplyAdd(x, Avx.LoadVector256(row), c0);
            c1 = Fma.MultiplyAdd(x, Avx.LoadVector256(row + 8), c1);
        }
        Avx.Store(c, c0);
        Avx.Store(c + 8, c1);
    }

    /// <summary>
    /// C [m, n] = A [m, k] · Bᵀ for a few rows, each column of B contiguous in k (a tied unembedding:
    /// x · wteᵀ): each task owns 4 columns, reads them once, and takes the 4 dot products of every row
    /// of A with them together.
    /// </summary>
    private static void StreamRowsTransposed(int batch, int m, int n, int k, float* a, in Gemm.Operand opA, float* b, in Gemm.Operand opB, float* c)
    {
        var (aOffsets, rsA, _) = opA;
        var (bOffsets, _, csB) = opB;
        const int Columns = 4;
        int blocks = (n + Columns - 1) / Columns;
        Par.For(batch * blocks, 2L * k * m * Columns, (first, last) =>
        {
            for (int t = first; t < last; t++)
            {
                int bi = t / blocks, j0 = t % blocks * Columns;
                float* aBase = a + (aOffsets is null ? 0 : aOffsets[bi]);
                float* bBase = b + (bOffsets is null ? 0 : bOffsets[bi]);
                float* cBase = c + (long)bi * m * n;
                if (j0 + Columns > n)
                {
                    for (int i = 0; i < m; i++)
                        for (int j = j0; j < n; j++)
                            cBase[(long)i * n + j] = TensorPrimitives.Dot(new ReadOnlySpan<float>(aBase + i * rsA, k), new ReadOnlySpan<float>(bBase + j * csB, k));
                    continue;
                }
                float* w0 = bBase + j0 * csB, w1 = w0 + csB, w2 = w1 + csB, w3 = w2 + csB;
                for (int i = 0; i < m; i++)
                {
                    float* x = aBase + i * rsA;
                    Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
                    int p = 0;
                    for (; p + 8 <= k; p += 8)
                    {
                        var xv = Avx.LoadVector256(x + p);
                        s0 = Fma.MultiplyAdd(xv, Avx.LoadVector256(w0 + p), s0);
                        s1 = Fma.MultiplyAdd(xv, Avx.LoadVector256(w1 + p), s1);
                        s2 = Fma.MultiplyAdd(xv, Avx.LoadVector256(w2 + p), s2);
                        s3 = Fma.MultiplyAdd(xv, Avx.LoadVector256(w3 + p), s3);
                    }
                    float r0 = Vector256.Sum(s0), r1 = Vector256.Sum(s1), r2 = Vector256.Sum(s2), r3 = Vector256.Sum(s3);
                    for (; p < k; p++) { r0 += x[p] * w0[p]; r1 += x[p] * w1[p]; r2 += x[p] * w2[p]; r3 += x[p] * w3[p]; }
                    float* row = cBase + (long)i * n + j0;
                    (row[0], row[1], row[2], row[3]) = (r0, r1, r2, r3);
                }
            }
        });
    }
}

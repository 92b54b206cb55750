using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// Batched single-precision GEMM, C[b] = A[b] · B[b], in the GotoBLAS / BLIS layout:
/// B is packed once per launch into KC×16 column panels (shared by all threads, parallel packing);
/// each task owns a block of C rows, packs its MC×KC block of A into 6-row panels in per-thread
/// scratch (L2-resident) and sweeps the B panels (L1-resident) with a 6×16 register-blocked FMA
/// micro-kernel: 12 ymm accumulators, 2 B loads and 6 broadcasts per k step.
/// Operands are read through (row, column) strides, so transposed inputs cost nothing but a
/// different packing loop. Panels are zero-padded, so the micro-kernel always runs full tiles and
/// only the store of an edge tile is partial.
/// </summary>
internal static unsafe class Gemm
{
    public const int MR = 6;
    public const int NR = 16;
    public const int KC = 256;   // 16 KiB B panel fits L1 (32 KiB on Zen 3)
    public const int MC = 96;    // 96 KiB A block fits L2 (512 KiB)

    /// <summary>
    /// One strided matrix operand: element (i, j) of batch b is at Base[Offsets[b] + i*RowStride + j*ColStride];
    /// Offsets null means every batch reads the same matrix.
    /// </summary>
    public readonly record struct Operand(long[]? Offsets, long RowStride, long ColStride);

    public static void Run(int batch, int m, int n, int k, float* a, in Operand opA, float* b, in Operand opB, float* c)
    {
        if (batch == 0 || m == 0 || n == 0) return;
        if (k == 0)
        {
            new Span<float>(c, checked(batch * m * n)).Clear();
            return;
        }

        if (Gemv.Applies(m, n, opA, opB))
        {
            Gemv.Run(batch, m, n, k, a, opA, b, opB, c);
            return;
        }

        var (aOffsets, rsA, csA) = opA;
        var (bOffsets, rsB, csB) = opB;
        int nPanels = (n + NR - 1) / NR;
        long nPad = (long)nPanels * NR;
        int kBlocks = (k + KC - 1) / KC;
        bool sharedB = bOffsets is null || Array.TrueForAll(bOffsets, o => o == bOffsets[0]);
        int packedBatches = sharedB ? 1 : batch;
        long packedStride = k * nPad;

        using var packed = Scratch.RentShared(packedBatches * packedStride);
        float* bp = packed.Pointer;

        // Phase 1: pack B, one (batch, k block, column panel) per task.
        int packTasks = packedBatches * kBlocks * nPanels;
        Par.For(packTasks, (long)KC * NR, (first, last) =>
        {
            for (int t = first; t < last; t++)
            {
                int pb = t / (kBlocks * nPanels), rest = t % (kBlocks * nPanels);
                int p0 = rest / nPanels * KC, jp = rest % nPanels;
                int kc = Math.Min(KC, k - p0);
                float* src = b + (bOffsets is null ? 0 : bOffsets[pb]);
                PackB(src, rsB, csB, p0, kc, jp * NR, Math.Min(NR, n - jp * NR),
                    bp + pb * packedStride + p0 * nPad + (long)jp * kc * NR);
            }
        });

        // Phase 2: blocks of C rows (and column ranges when there are too few row blocks to keep every core busy).
        int mBlocks = (m + MC - 1) / MC;
        int mc = (m + mBlocks - 1) / mBlocks;
        mc = (mc + MR - 1) / MR * MR;
        mBlocks = (m + mc - 1) / mc;
        int rowTasks = batch * mBlocks;
        int wanted = Par.Workers * 4;
        int nChunks = rowTasks >= wanted ? 1 : Math.Min(nPanels, (wanted + rowTasks - 1) / rowTasks);
        int panelsPerChunk = (nPanels + nChunks - 1) / nChunks;
        nChunks = (nPanels + panelsPerChunk - 1) / panelsPerChunk;
        long flopsPerTask = 2L * mc * Math.Min(n, panelsPerChunk * NR) * k;

        Par.For(rowTasks * nChunks, flopsPerTask, (first, last) =>
        {
            float* ap = Scratch.ThreadLocal(Scratch.PackA, (long)MC * KC + 64);
            float* edge = stackalloc float[MR * NR];
            for (int t = first; t < last; t++)
            {
                int bi = t / (mBlocks * nChunks), rest = t % (mBlocks * nChunks);
                int i0 = rest / nChunks * mc, chunk = rest % nChunks;
                int mcur = Math.Min(mc, m - i0);
                int jp0 = chunk * panelsPerChunk, jp1 = Math.Min(nPanels, jp0 + panelsPerChunk);
                float* aBase = a + (aOffsets is null ? 0 : aOffsets[bi]);
                float* bBase = bp + (sharedB ? 0 : bi * packedStride);
                float* cBase = c + ((long)bi * m + i0) * n;

                for (int p0 = 0; p0 < k; p0 += KC)
                {
                    int kc = Math.Min(KC, k - p0);
                    bool accumulate = p0 > 0;
                    PackA(aBase, rsA, csA, i0, mcur, p0, kc, ap);
                    for (int jp = jp0; jp < jp1; jp++)
                    {
                        float* bPanel = bBase + p0 * nPad + (long)jp * kc * NR;
                        int ncur = Math.Min(NR, n - jp * NR);
                        for (int ip = 0; ip < mcur; ip += MR)
                        {
                            int mr = Math.Min(MR, mcur - ip);
                            float* cTile = cBase + (long)ip * n + jp * NR;
                            float* aPanel = ap + (long)ip * kc;
                            if (mr == MR && ncur == NR)
                            {
                                Kernel(kc, aPanel, bPanel, cTile, n, accumulate);
                            }
                            else
                            {
                                Kernel(kc, aPanel, bPanel, edge, NR, false);
                                for (int r = 0; r < mr; r++)
                                for (int j = 0; j < ncur; j++)
                                    cTile[(long)r * n + j] = (accumulate ? cTile[(long)r * n + j] : 0f) + edge[r * NR + j];
                            }
                        }
                    }
                }
            }
        });
    }

    /// <summary>Rows [i0, i0+mc) × columns [p0, p0+kc) of A into 6-row panels: panel[p*6 + r] = A[i0+r, p0+p].</summary>
    private static void PackA(float* a, long rs, long cs, int i0, int mc, int p0, int kc, float* dst)
    {
        for (int ip = 0; ip < mc; ip += MR)
        {
            int mr = Math.Min(MR, mc - ip);
            float* panel = dst + (long)ip * kc;
            float* origin = a + (long)(i0 + ip) * rs + (long)p0 * cs;
            if (cs == 1 && mr == MR)
            {
                // Rows contiguous in k: six streams read in step.
                float* r0 = origin, r1 = r0 + rs, r2 = r1 + rs, r3 = r2 + rs, r4 = r3 + rs, r5 = r4 + rs;
                for (int p = 0; p < kc; p++, panel += MR)
                {
                    panel[0] = r0[p]; panel[1] = r1[p]; panel[2] = r2[p];
                    panel[3] = r3[p]; panel[4] = r4[p]; panel[5] = r5[p];
                }
            }
            else
            {
                for (int p = 0; p < kc; p++, panel += MR)
                {
                    float* col = origin + p * cs;
                    int r = 0;
                    for (; r < mr; r++) panel[r] = col[r * rs];
                    for (; r < MR; r++) panel[r] = 0f;
                }
            }
        }
    }

    /// <summary>Rows [p0, p0+kc) × columns [j0, j0+nc) of B into one 16-wide panel: panel[p*16 + j] = B[p0+p, j0+j].</summary>
    private static void PackB(float* b, long rs, long cs, int p0, int kc, int j0, int nc, float* panel)
    {
        float* origin = b + (long)p0 * rs + (long)j0 * cs;
        if (cs == 1 && nc == NR)
        {
            for (int p = 0; p < kc; p++)
            {
                float* row = origin + p * rs;
                Vector256.Store(Vector256.Load(row), panel + p * NR);
                Vector256.Store(Vector256.Load(row + 8), panel + p * NR + 8);
            }
            return;
        }
        if (nc < NR) new Span<float>(panel, kc * NR).Clear();
        if (cs == 1)
        {
            for (int p = 0; p < kc; p++)
            for (int j = 0; j < nc; j++)
                panel[p * NR + j] = origin[p * rs + j];
        }
        else
        {
            // Transposed B: each column is contiguous in k, so read along k.
            for (int j = 0; j < nc; j++)
            {
                float* col = origin + j * cs;
                for (int p = 0; p < kc; p++) panel[p * NR + j] = col[p * rs];
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> MulAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) =>
        Fma.IsSupported ? Fma.MultiplyAdd(a, b, c) : a * b + c;

    /// <summary>C[6×16] (+)= Apanel[kc×6]ᵀ · Bpanel[kc×16], all twelve accumulators in registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel(int kc, float* a, float* b, float* c, long ldc, bool accumulate)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var x = Vector256.Create(a[0]);
            c00 = MulAdd(x, b0, c00); c01 = MulAdd(x, b1, c01);
            x = Vector256.Create(a[1]);
            c10 = MulAdd(x, b0, c10); c11 = MulAdd(x, b1, c11);
            x = Vector256.Create(a[2]);
            c20 = MulAdd(x, b0, c20); c21 = MulAdd(x, b1, c21);
            x = Vector256.Create(a[3]);
            c30 = MulAdd(x, b0, c30); c31 = MulAdd(x, b1, c31);
            x = Vector256.Create(a[4]);
            c40 = MulAdd(x, b0, c40); c41 = MulAdd(x, b1, c41);
            x = Vector256.Create(a[5]);
            c50 = MulAdd(x, b0, c50); c51 = MulAdd(x, b1, c51);
            a += MR;
            b += NR;
        }
        Store(c, c00, c01, accumulate);
        Store(c + ldc, c10, c11, accumulate);
        Store(c + 2 * ldc, c20, c21, accumulate);
        Store(c + 3 * ldc, c30, c31, accumulate);
        Store(c + 4 * ldc, c40, c41, accumulate);
        Store(c + 5 * ldc, c50, c51, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* row, Vector256<float> lo, Vector256<float> hi, bool accumulate)
    {
        if (accumulate)
        {
            lo += Vector256.Load(row);
            hi += Vector256.Load(row + 8);
        }
        lo.Store(row);
        hi.Store(row + 8);
    }
}

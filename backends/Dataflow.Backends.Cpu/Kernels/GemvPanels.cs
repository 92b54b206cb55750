using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// C = A · B for 8 to 16 rows of A against a weight in panels (<see cref="DecodePanels"/>): a batched
/// decode step's projections and its unembedding where 512-bit vectors run. A is turned once per launch into
/// lanes (<see cref="GemvTransposedLanes.Transpose"/>: k rows of 16 floats, ~18 KiB for k 288, in L1), and a
/// 16-column panel of B meets all the rows at once: per k step one load of the panel's line and, per row, one
/// multiply-add with that row's value of A broadcast from the lanes, a 16 × 16 tile of C in sixteen
/// registers. Against the lanes kernel over the column-by-column copy (eight columns in eight streams, a
/// broadcast from each) the weights are one sequential run per thread: medians of 60, B rotated over four
/// copies so none stays in L3, two threads, Zen 4: 16 × 32000 × 288 (15M's unembedding) 1.72–1.76 ms against
/// 2.03–2.06, 16 × 864 × 288 0.048 against 0.063–0.069, 16 × 1152 × 288 0.059 against 0.083, 16 × 288 × 1152 even.
/// bf16 panels are widened a line at a time (<see cref="Bf16Line"/>), the same chains over the same values as
/// f32 panels of the rounded weights, so the two agree to the bit.
/// </summary>
/// <remarks>
/// Each element is one scalar chain over k in order (lane q of row i's accumulator), as in the lanes kernel,
/// so a row gets the same bits in any block of rows; a row alone (the one-row paths, 8-wide chains) agrees to rounding.
/// </remarks>
internal static unsafe class GemvPanels
{
    public const int MinRows = 8;
    public const int MaxRows = GemvTransposedLanes.Lanes;

    /// <summary>
    /// Bytes ahead of the line a step reads that it prefetches into L1 (2 KiB) and into L2 (16 KiB): the same panel or
    /// the next ones, which the task reads next. The L2 request leaves DRAM more time, the L1 one hides L2's latency.
    /// Zen 4, two threads, panels from memory, medians of 200 in one shell loop: 16 × 32000 × 288 1.47–1.59 ms against
    /// 1.78–2.18 with one prefetch 8 KiB ahead into L1 (which was better than 4 or 16 KiB, or none); 16 × 864 × 288
    /// 0.048–0.054 against 0.056–0.063; a whole 16-row decode step of the 15M shape at position 128 4.31–5.22 ms against
    /// 4.99–5.64 (4 of 4 pairs).
    /// </summary>
    private const int PrefetchL1Bytes = 2048, PrefetchL2Bytes = 16384;

    public static bool Applies(int m) => Vector512.IsHardwareAccelerated && Avx512F.IsSupported && m >= MinRows && m <= MaxRows;

    /// <param name="a">A [m, k], rows <paramref name="rsA"/> floats apart, contiguous in k.</param>
    /// <param name="c">C [m, n], row-major.</param>
    public static void Run(int m, int n, int k, float* a, long rsA, DecodePanels panels, float* c)
    {
        using var lanes = Scratch.RentShared((long)k * GemvTransposedLanes.Lanes);
        GemvTransposedLanes.Transpose(m, k, a, rsA, lanes.Pointer);
        // A task is a run of whole panels (one stream); the job system cuts the panels into a few such runs per thread.
        var job = new Job(m, n, k, lanes.Pointer, panels.Words, c);
        long ops = 2L * k * DecodePanels.Width * m;
        if (panels.IsBf16) Par.For(panels.Count, ops, job, static (job, first, last) => job.Panels<Bf16Line>(first, last));
        else Par.For(panels.Count, ops, job, static (job, first, last) => job.Panels<F32Line>(first, last));
    }

    /// <summary>How a kernel reads line <c>p</c> of a panel (16 columns) as floats.</summary>
    private interface ILine
    {
        static abstract int Bytes { get; }
        static abstract Vector512<float> Load(void* panel, int p);
    }

    private readonly struct F32Line : ILine
    {
        public static int Bytes => DecodePanels.Width * sizeof(float);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Load(void* panel, int p) => Vector512.Load((float*)panel + p * DecodePanels.Width);
    }

    /// <summary>16 bf16 words zero-extended to 32 bits and shifted into the high half: their exact f32 values.</summary>
    private readonly struct Bf16Line : ILine
    {
        public static int Bytes => DecodePanels.Width * sizeof(ushort);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Load(void* panel, int p) =>
            Avx512F.ShiftLeftLogical(Avx512F.ConvertToVector512UInt32(Vector256.Load((ushort*)panel + p * DecodePanels.Width)), 16).AsSingle();
    }

    private readonly struct Job(int m, int n, int k, float* lanes, void* panels, float* c)
    {
        private readonly int _m = m, _n = n, _k = k;
        private readonly float* _lanes = lanes, _c = c;
        private readonly byte* _panels = (byte*)panels;

        public void Panels<TLine>(int first, int last) where TLine : struct, ILine
        {
            float* tile = stackalloc float[MaxRows * DecodePanels.Width];
            for (int panel = first; panel < last; panel++)
            {
                int j0 = panel * DecodePanels.Width, columns = Math.Min(DecodePanels.Width, _n - j0);
                byte* w = _panels + (long)panel * TLine.Bytes * _k;
                bool whole = columns == DecodePanels.Width;
                float* into = whole ? _c + j0 : tile;
                long ldc = whole ? _n : DecodePanels.Width;
                if (_m > 8) Sixteen<TLine>(_k, _lanes, w, into, ldc, _m);
                else Eight<TLine>(_k, _lanes, w, into, ldc, _m);
                if (whole) continue;
                for (int i = 0; i < _m; i++)
                    new ReadOnlySpan<float>(tile + i * DecodePanels.Width, columns).CopyTo(new Span<float>(_c + (long)i * _n + j0, columns));
            }
        }
    }

    /// <summary>Rows 0 … 15 of one panel (rows past <paramref name="rows"/> are zero lanes, computed and not stored).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Sixteen<TLine>(int k, float* lanes, byte* w, float* c, long ldc, int rows) where TLine : struct, ILine
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        Vector512<float> c8 = default, c9 = default, c10 = default, c11 = default, c12 = default, c13 = default, c14 = default, c15 = default;
        for (int p = 0; p < k; p++)
        {
            float* x = lanes + p * GemvTransposedLanes.Lanes;
            Sse.Prefetch0(w + p * TLine.Bytes + PrefetchL1Bytes);
            Sse.Prefetch1(w + p * TLine.Bytes + PrefetchL2Bytes);
            var v = TLine.Load(w, p);
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(x[0]), v, c0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(x[1]), v, c1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(x[2]), v, c2);
            c3 = Vector512.FusedMultiplyAdd(Vector512.Create(x[3]), v, c3);
            c4 = Vector512.FusedMultiplyAdd(Vector512.Create(x[4]), v, c4);
            c5 = Vector512.FusedMultiplyAdd(Vector512.Create(x[5]), v, c5);
            c6 = Vector512.FusedMultiplyAdd(Vector512.Create(x[6]), v, c6);
            c7 = Vector512.FusedMultiplyAdd(Vector512.Create(x[7]), v, c7);
            c8 = Vector512.FusedMultiplyAdd(Vector512.Create(x[8]), v, c8);
            c9 = Vector512.FusedMultiplyAdd(Vector512.Create(x[9]), v, c9);
            c10 = Vector512.FusedMultiplyAdd(Vector512.Create(x[10]), v, c10);
            c11 = Vector512.FusedMultiplyAdd(Vector512.Create(x[11]), v, c11);
            c12 = Vector512.FusedMultiplyAdd(Vector512.Create(x[12]), v, c12);
            c13 = Vector512.FusedMultiplyAdd(Vector512.Create(x[13]), v, c13);
            c14 = Vector512.FusedMultiplyAdd(Vector512.Create(x[14]), v, c14);
            c15 = Vector512.FusedMultiplyAdd(Vector512.Create(x[15]), v, c15);
        }
        c0.Store(c); c1.Store(c + ldc); c2.Store(c + 2 * ldc); c3.Store(c + 3 * ldc);
        c4.Store(c + 4 * ldc); c5.Store(c + 5 * ldc); c6.Store(c + 6 * ldc); c7.Store(c + 7 * ldc);
        if (rows > 8) c8.Store(c + 8 * ldc);
        if (rows > 9) c9.Store(c + 9 * ldc);
        if (rows > 10) c10.Store(c + 10 * ldc);
        if (rows > 11) c11.Store(c + 11 * ldc);
        if (rows > 12) c12.Store(c + 12 * ldc);
        if (rows > 13) c13.Store(c + 13 * ldc);
        if (rows > 14) c14.Store(c + 14 * ldc);
        if (rows > 15) c15.Store(c + 15 * ldc);
    }

    /// <summary>Rows 0 … 7 of one panel: half the multiply-adds of <see cref="Sixteen"/> per line, the same chains.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Eight<TLine>(int k, float* lanes, byte* w, float* c, long ldc, int rows) where TLine : struct, ILine
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        for (int p = 0; p < k; p++)
        {
            float* x = lanes + p * GemvTransposedLanes.Lanes;
            Sse.Prefetch0(w + p * TLine.Bytes + PrefetchL1Bytes);
            Sse.Prefetch1(w + p * TLine.Bytes + PrefetchL2Bytes);
            var v = TLine.Load(w, p);
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(x[0]), v, c0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(x[1]), v, c1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(x[2]), v, c2);
            c3 = Vector512.FusedMultiplyAdd(Vector512.Create(x[3]), v, c3);
            c4 = Vector512.FusedMultiplyAdd(Vector512.Create(x[4]), v, c4);
            c5 = Vector512.FusedMultiplyAdd(Vector512.Create(x[5]), v, c5);
            c6 = Vector512.FusedMultiplyAdd(Vector512.Create(x[6]), v, c6);
            c7 = Vector512.FusedMultiplyAdd(Vector512.Create(x[7]), v, c7);
        }
        c0.Store(c);
        if (rows > 1) c1.Store(c + ldc);
        if (rows > 2) c2.Store(c + 2 * ldc);
        if (rows > 3) c3.Store(c + 3 * ldc);
        if (rows > 4) c4.Store(c + 4 * ldc);
        if (rows > 5) c5.Store(c + 5 * ldc);
        if (rows > 6) c6.Store(c + 6 * ldc);
        if (rows > 7) c7.Store(c + 7 * ldc);
    }
}

using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// C [m, n] = A [m, k] · W [k, n] for 17–32 rows of A, 64 with a long k (see MinRows, MaxRowsLongK) against a weight streamed from memory: a batched
/// decode step (one token per sequence) through every layer projection (qkv, attention out, fc, proj). At
/// these rows a step has about 16 multiply-adds per weight it reads, so it can run at the FLOP rate of the
/// cores rather than the read rate of memory, if every weight is used by all rows while it is in cache. A task
/// owns a block of whole columns over all of k and walks k in chunks of rows: it copies the chunk's rows of
/// its columns into NR-wide panels (row by row, long sequential reads), prefetches the next chunk's rows while
/// it sweeps the GEMM's micro-kernel (<see cref="GemmMicroKernel"/>, an MR × NR tile of C in registers) over
/// every panel of A (all tasks share A, packed once per launch), and adds the chunk into its columns of C.
/// No task sums into another's C, so there are no partial copies of C to add at the end (the few-row strips
/// of <see cref="Gemv"/> cut k across tasks and sum eight copies of C on one thread), and a launch is one parallel loop.
/// </summary>
/// <remarks>
/// The bits: k is walked in the chunks of rows that a single row's streamed product (<see cref="Gemv"/>) uses,
/// each chunk's chain of fused multiply-adds from zero, added into C in chunk order (the micro-kernel's
/// accumulating store with alpha 1 is that add exactly), so a sequence gets the same logits batched as decoded
/// alone, whichever tile runs. A bf16 weight is widened while it is copied (exact), so it gets the bits its
/// rounded f32 copy gets, reading half the bytes. x · Wᵀ (the tied unembedding) keeps its own paths
/// (<see cref="GemvTransposedTiles"/>, <see cref="GemvTransposedPacked"/>, <see cref="GemvTransposedLanes"/>): packed transposed panels measured no
/// faster than the tiles on AVX2 here, and the tiles keep a row's bits.
/// </remarks>
internal static unsafe class GemmFewRows
{
    /// <summary>
    /// Up to 16 rows the streamed strips of <see cref="Gemv"/> stay: a whole 15M decode step at 16 rows, two threads,
    /// measured 1509 and 1454 tok/s there against 1386 and 1336 here (alternating runs), though one thread alone ran
    /// these tiles faster (qkv and fc ≈48 against ≈37 GFLOP/s). From 17 rows they replace the packed GEMM.
    /// </summary>
    public const int MinRows = Gemv.MaxStreamedRows + 1;
    public const int MaxRows = 32;

    /// <summary>
    /// Up to this many rows where k is at least <see cref="LongK"/> (a 64-token prompt's prefill through the 110M
    /// shape's projections): there each chunk of k is long enough that the tiles run well, and the GEMM's packing
    /// of all of B for so few rows costs more (110M prefill qkv [64,768]·[768,2304]: 70–110 GFLOP/s against 60–71
    /// packed; time to first token of a 64-token prompt 153 and 208 ms against 197 and 244, alternating runs; 15M 19.1 and 22.1 against 23.6 and 24.7). With short
    /// k the chunks are a few dozen rows and the packed GEMM wins (15M fc [64,288]·[288,1152]: 70–99 against 116–124).
    /// </summary>
    public const int MaxRowsLongK = 64;

    /// <summary>The k from which <see cref="MaxRowsLongK"/> rows apply.</summary>
    public const int LongK = 512;

    /// <summary>At most this many NR-wide panels per task: a chunk of its packed B (the chunk's rows × 8·NR floats, at most ~70 KiB for k ≤ 2K) stays in L2.</summary>
    private const int MaxPanelsPerTask = 8;

    /// <summary>The tile these products run: eight rows where 512-bit vectors run (sixteen rows are two tiles, no padding), else the GEMM's 6 × 16.</summary>
    public static GemmMicroKernel Kernel { get; } = Vector512.IsHardwareAccelerated ? GemmMicroKernel.Avx512EightRows : GemmMicroKernel.Avx2;

    /// <summary>Whether <see cref="Run"/> takes this shape: x · W (B rows contiguous; x · Wᵀ keeps <see cref="GemvTransposedTiles"/>, see the remarks).</summary>
    public static bool Applies(int m, int n, int k, in Gemm.Operand a, in Gemm.Operand b) =>
        m >= MinRows && m <= (k >= LongK ? MaxRowsLongK : MaxRows) && n >= 4 * Gemv.StripWidth && a.ColStride == 1 && Avx2.IsSupported && Fma.IsSupported
        && b.ColStride == 1;

    /// <param name="b16">B as bfloat16 words (the elements of <paramref name="b"/>, rounded), read instead of it; null: f32.</param>
    public static void Run(int batch, int m, int n, int k, float* a, in Gemm.Operand opA, float* b, in Gemm.Operand opB, ushort* b16, float* c) =>
        Run(batch, m, n, k, a, opA, b, opB, b16, c, Kernel);

    /// <param name="kernel">The tile (tests run the 512-bit one on any machine: it falls back to software).</param>
    internal static void Run(int batch, int m, int n, int k, float* a, in Gemm.Operand opA, float* b, in Gemm.Operand opB, ushort* b16, float* c, in GemmMicroKernel kernel)
    {
        int mr = kernel.MR;
        long aFloats = (long)(m + mr - 1) / mr * mr * k;
        // A's panels, shared by every task: small (rows × k), packed here before the tasks start. The slack takes the packing's spill.
        using var packedA = Scratch.RentShared(batch * aFloats + 64);
        for (int bi = 0; bi < batch; bi++)
            Gemm.PackA(a + (opA.Offsets is null ? 0 : opA.Offsets[bi]), opA.RowStride, 1, 0, m, 0, k, packedA.Pointer + bi * aFloats, mr);
        var job = _job ??= new Job();
        job.Set(batch, m, n, k, packedA.Pointer, aFloats, b, opB, b16, c, kernel);
        try
        {
            Par.For(job.Tasks, job.FlopsPerTask, job.Body);
        }
        finally
        {
            job.Clear();
        }
    }

    /// <summary>
    /// Panels per task: as few tasks as keep the workers evenly loaded (the largest task's panels per worker,
    /// plus a little per task for its start), at least two per worker where there are enough panels, so a
    /// core slowed by other load does not hold the launch. Which task computes a column does not change it.
    /// </summary>
    internal static int PanelsPerTask(int panels, int workers)
    {
        int best = 1;
        double bestCost = double.MaxValue;
        for (int per = 1; per <= Math.Min(MaxPanelsPerTask, panels); per++)
        {
            int tasks = (panels + per - 1) / per;
            if (tasks < 2 * workers && per > 1 && panels >= 2 * workers) continue;
            int rounds = (tasks + workers - 1) / workers;
            double cost = rounds * (per + 0.5);
            if (cost < bestCost) (best, bestCost) = (per, cost);
        }
        return best;
    }

    [ThreadStatic] private static Job? _job;

    /// <summary>The state of one launch, shared read-only by the threads that run its tasks.</summary>
    private sealed class Job
    {
        public readonly Action<int, int> Body;
        private int _m, _n, _k, _chunkRows, _columnsPerTask, _columnTasks;
        private long _aFloats;
        private float* _packedA, _b, _c;
        private ushort* _b16;
        private Gemm.Operand _opB;
        private GemmMicroKernel _kernel;

        public Job() => Body = Execute;

        public int Tasks { get; private set; }
        public long FlopsPerTask { get; private set; }

        public void Set(int batch, int m, int n, int k, float* packedA, long aFloats, float* b, in Gemm.Operand opB, ushort* b16, float* c, in GemmMicroKernel kernel)
        {
            (_m, _n, _k, _aFloats, _opB, _kernel) = (m, n, k, aFloats, opB, kernel);
            _packedA = packedA;
            _b = b;
            _b16 = b16;
            _c = c;
            _chunkRows = Gemv.ChunkRows(k);   // the single row's chunks: the same bits
            int panels = (n + kernel.NR - 1) / kernel.NR;
            _columnsPerTask = PanelsPerTask(panels, Par.Workers) * kernel.NR;
            _columnTasks = (n + _columnsPerTask - 1) / _columnsPerTask;
            Tasks = batch * _columnTasks;
            FlopsPerTask = 2L * m * _columnsPerTask * k;
        }

        public void Clear()
        {
            _opB = default;
            _packedA = _b = _c = null;
            _b16 = null;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Execute(int first, int last)
        {
            int nr0 = _kernel.NR;
            float* packedB = Scratch.ThreadLocal(Scratch.PackB, (long)_columnsPerTask * _chunkRows + 64);
            float* edge = stackalloc float[_kernel.MR * nr0];
            long n = _n;
            for (int t = first; t < last; t++)
            {
                int bi = t / _columnTasks, j0 = t % _columnTasks * _columnsPerTask, columns = Math.Min(_columnsPerTask, _n - j0);
                long bOffset = _opB.Offsets is null ? 0 : _opB.Offsets[bi];
                float* a = _packedA + bi * _aFloats, c = _c + bi * (long)_m * n + j0;
                // Chunk by chunk of B's rows: the chunk's panels (kc × the task's columns) stay in L2 while every panel of A
                // passes them, C's rows of the task stay in L1, and the next chunk's rows come in while this one's products run.
                for (int p0 = 0; p0 < _k; p0 += _chunkRows)
                {
                    int kc = Math.Min(_chunkRows, _k - p0), next = Math.Min(_chunkRows, _k - p0 - kc);
                    long rsB = _opB.RowStride, at = bOffset + p0 * rsB + j0;
                    if (_b16 is not null)
                    {
                        PackRows<ushort, Bf16Words>(kc, _b16 + at, rsB, columns, nr0, packedB);
                        Sweep(a, p0, kc, packedB, columns, c, p0 > 0, (byte*)(_b16 + at + kc * rsB), next, rsB * sizeof(ushort), edge, columns * sizeof(ushort));
                    }
                    else
                    {
                        PackRows<float, F32Words>(kc, _b + at, rsB, columns, nr0, packedB);
                        Sweep(a, p0, kc, packedB, columns, c, p0 > 0, (byte*)(_b + at + kc * rsB), next, rsB * sizeof(float), edge, columns * sizeof(float));
                    }
                }
            }
        }

        /// <summary>
        /// Every (A panel, B panel) tile of one chunk of k: rows [p0, p0 + kc) of A's panels against the task's packed
        /// B panels (kc × NR each), into C (or added to it). Before each B panel it prefetches its share of the
        /// <paramref name="aheadRows"/> rows at <paramref name="ahead"/> (the next chunk's, <paramref name="rowBytes"/> each).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Sweep(float* a, int p0, int kc, float* packedB, int columns, float* c, bool accumulate, byte* ahead, int aheadRows, long aheadStride, float* edge, int rowBytes)
        {
            int mr0 = _kernel.MR, nr0 = _kernel.NR, panels = (columns + nr0 - 1) / nr0;
            var run = _kernel.Run;
            long n = _n;
            int rowsPerPanel = (aheadRows + panels - 1) / panels, fetched = 0;
            for (int s = 0; s < panels; s++)
            {
                for (int end = Math.Min(aheadRows, fetched + rowsPerPanel); fetched < end; fetched++)
                {
                    byte* row = ahead + fetched * aheadStride;
                    for (int x = 0; x < rowBytes; x += 64) Sse.Prefetch0(row + x);
                    Sse.Prefetch0(row + rowBytes - 1);
                }
                int nr = Math.Min(nr0, columns - s * nr0);
                float* bPanel = packedB + (long)s * nr0 * kc;
                for (int i0 = 0; i0 < _m; i0 += mr0)
                {
                    int mr = Math.Min(mr0, _m - i0);
                    float* aPanel = a + (long)i0 * _k + (long)p0 * mr0, tile = c + i0 * n + s * nr0;
                    if (mr == mr0 && nr == nr0)
                    {
                        run(kc, aPanel, bPanel, tile, n, 1f, accumulate);
                        continue;
                    }
                    run(kc, aPanel, bPanel, edge, nr0, 1f, false);
                    for (int r = 0; r < mr; r++)
                        for (int j = 0; j < nr; j++)
                            tile[r * n + j] = accumulate ? tile[r * n + j] + edge[r * nr0 + j] : edge[r * nr0 + j];
                }
            }
        }
    }

    /// <summary>
    /// <paramref name="columns"/> columns of <paramref name="k"/> rows of a row-major B (rows <paramref name="rsB"/>
    /// apart) as f32 panels of <paramref name="nr"/> columns (panel s: k rows of nr floats), the last one zero-padded.
    /// B is read row by row, each row's columns one sequential run: walking one panel down B instead reads one
    /// line per row at B's row stride, which the prefetchers follow badly (≈10× slower, measured on 15M's layers).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void PackRows<T, TWords>(int k, T* b, long rsB, int columns, int nr, float* packed)
        where T : unmanaged where TWords : IWeightWords<T>
    {
        int whole = columns / nr * nr;
        long panelFloats = (long)k * nr;
        for (int p = 0; p < k; p++)
        {
            T* row = b + p * rsB;
            float* into = packed + p * nr;
            int j = 0;
            for (; j < whole; j += nr, into += panelFloats)
                for (int v = 0; v < nr; v += 8) TWords.Load8(row + j + v).Store(into + v);
            if (j == columns) continue;
            for (int v = 0; v < nr; v++) into[v] = j + v < columns ? TWords.ToSingle(row[j + v]) : 0;
        }
    }
}

using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// C [m, n] = A [m, k] · B for 9–32 rows of A against a weight streamed from memory: a batched decode
/// step (one token per sequence) through every layer projection (x · W, B rows contiguous) and, without
/// 512-bit vectors, the tied unembedding (x · Wᵀ, B columns contiguous). At these rows a step has about
/// 16 multiply-adds per weight it reads, so it can run at the FLOP rate of the cores, not the read rate of
/// memory, if every weight is used by all rows while it is in L1. A task owns a block of whole columns over
/// all of k: it copies its columns of B once into NR-wide panels (row by row for x · W, eight columns
/// transposed at a time for x · Wᵀ, both long sequential reads), then sweeps the GEMM's micro-kernel
/// (<see cref="GemmMicroKernel"/>, its tile of MR × NR of C in registers) over every panel of A, which
/// all tasks share, packed once per launch. No task sums into another's C, so there are no partial copies
/// of C to add at the end, and a launch is one parallel loop.
/// </summary>
/// <remarks>
/// The bits: for x · W, k is walked in the chunks of rows that a single row's streamed product
/// (<see cref="Gemv"/>) uses, each chunk's chain of fused multiply-adds from zero, added into C in chunk
/// order (the micro-kernel's accumulating store with alpha 1 is that add exactly), so a sequence gets the
/// same logits batched as decoded alone. For x · Wᵀ each element is one chain over k in order, as in
/// <see cref="GemvTransposedPacked"/> with 512-bit vectors: a row among these agrees with the row alone
/// (an 8-wide chain and its horizontal sum) to rounding. A bf16 weight is widened while it is copied
/// (exact), so it gets the bits its rounded f32 copy gets, reading half the bytes; x · Wᵀ of a bf16 weight
/// keeps its own tiles (<see cref="GemvTransposedTiles"/>), which read the words in place.
/// </remarks>
internal static unsafe class GemmFewRows
{
    public const int MinRows = 9;
    public const int MaxRows = 32;

    /// <summary>At most this many NR-wide panels per task: its packed B (k × 8·NR floats) stays in L2 for k up to ~1K.</summary>
    private const int MaxPanelsPerTask = 8;

    /// <summary>The tile these products run: eight rows where 512-bit vectors run (sixteen rows are two tiles, no padding), else the GEMM's 6 × 16.</summary>
    public static GemmMicroKernel Kernel { get; } = Vector512.IsHardwareAccelerated ? GemmMicroKernel.Avx512EightRows : GemmMicroKernel.Avx2;

    /// <summary>
    /// Whether <see cref="Run"/> takes this shape. x · Wᵀ with 512-bit vectors keeps <see cref="GemvTransposedPacked"/>
    /// (its strips prefetch the next columns while they multiply), and of a bf16 weight its own tiles (see the remarks).
    /// </summary>
    public static bool Applies(int m, int n, in Gemm.Operand a, in Gemm.Operand b, bool bf16 = false) =>
        m >= MinRows && m <= MaxRows && n >= 4 * Gemv.StripWidth && a.ColStride == 1 && Avx2.IsSupported && Fma.IsSupported
        && (b.ColStride == 1 || (b.RowStride == 1 && !bf16 && !Vector512.IsHardwareAccelerated));

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
            // x · W sums k in the single row's chunks (the same bits); x · Wᵀ in one chain.
            _chunkRows = opB.ColStride == 1 ? Gemv.ChunkRows(k) : k;
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
            int mr0 = _kernel.MR, nr0 = _kernel.NR;
            var run = _kernel.Run;
            float* packedB = Scratch.ThreadLocal(Scratch.PackB, (long)_columnsPerTask * _k + 64);
            float* edge = stackalloc float[mr0 * nr0];
            long n = _n;
            for (int t = first; t < last; t++)
            {
                int bi = t / _columnTasks, j0 = t % _columnTasks * _columnsPerTask, columns = Math.Min(_columnsPerTask, _n - j0);
                long bOffset = _opB.Offsets is null ? 0 : _opB.Offsets[bi];
                if (_opB.ColStride != 1) PackColumns(_k, _b + bOffset + j0 * _opB.ColStride, _opB.ColStride, columns, nr0, packedB);
                else if (_b16 is not null) PackRows<ushort, Bf16Words>(_k, _b16 + bOffset + j0, _opB.RowStride, columns, nr0, packedB);
                else PackRows<float, F32Words>(_k, _b + bOffset + j0, _opB.RowStride, columns, nr0, packedB);
                float* a = _packedA + bi * _aFloats, c = _c + bi * (long)_m * n + j0;
                for (int s = 0; s * nr0 < columns; s++)
                {
                    int nr = Math.Min(nr0, columns - s * nr0);
                    float* panel = packedB + (long)s * nr0 * _k;
                    for (int p0 = 0; p0 < _k; p0 += _chunkRows)
                    {
                        int kc = Math.Min(_chunkRows, _k - p0);
                        bool accumulate = p0 > 0;
                        // The chunk of this panel of B (kc × NR, a few KiB) stays in L1 while every panel of A passes it.
                        for (int i0 = 0; i0 < _m; i0 += mr0)
                        {
                            int mr = Math.Min(mr0, _m - i0);
                            float* aPanel = a + (long)i0 * _k + (long)p0 * mr0, bPanel = panel + (long)p0 * nr0, tile = c + i0 * n + s * nr0;
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

    /// <summary>
    /// <paramref name="columns"/> columns of a B whose columns are contiguous in k (<paramref name="csB"/> apart)
    /// as f32 panels of <paramref name="nr"/> columns, the last one zero-padded: eight columns (one contiguous run
    /// of 8·csB floats when csB = k) transposed at a time (<see cref="GemvTransposedPacked.TransposeEight"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void PackColumns(int k, float* b, long csB, int columns, int nr, float* packed)
    {
        long panelFloats = (long)k * nr;
        int g = 0;
        for (; g + 8 <= columns; g += 8)
            GemvTransposedPacked.TransposeEight(k, b + g * csB, csB, packed + g / nr * panelFloats + g % nr, nr);
        if (g == columns) return;
        int padded = (columns + nr - 1) / nr * nr;
        for (; g < padded; g++)
        {
            float* into = packed + g / nr * panelFloats + g % nr;
            float* column = b + g * csB;
            for (int p = 0; p < k; p++) into[p * nr] = g < columns ? column[p] : 0;
        }
    }
}

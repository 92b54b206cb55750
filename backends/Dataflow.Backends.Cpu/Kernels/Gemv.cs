using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// Matrix-vector products and few-row products (a decode step: one token per sequence through every
/// projection and the unembedding): packing would copy as much memory as the product reads, so these
/// stream the matrix once instead, from every thread, bound by memory bandwidth. What keeps them there
/// is that each thread reads long sequential runs (short runs at a stride starve the prefetcher):
/// <list type="bullet">
/// <item>B rows contiguous (x · W): the rows of B are cut into about eight chunks of whole rows; a task
/// reads one chunk front to back into its own partial C (one row of A: row after row of B scaled into
/// C, four chunks a quarter of B apart in step; a few rows: strips of 16 columns with a 4 × 16 tile of C
/// in registers), and the partials are added in chunk order.</item>
/// <item>B columns contiguous (x · Wᵀ, a tied unembedding): a task owns 64 consecutive columns (rows
/// of W, consecutive in memory) and dots each, as it passes, with every row of A (<see cref="GemvTransposedTiles"/>);
/// with 512-bit vectors, 8 to 16 rows of A over f32 columns are transposed once per launch into the lanes of one vector
/// (<see cref="GemvTransposedLanes"/>), and blocks of eight rows over bf16 words transpose the task's columns into strips
/// first (<see cref="GemvTransposedPacked"/>).</item>
/// </list>
/// A decode step with 8 to 16 rows and 512-bit vectors does not come here: <see cref="MatMulKernel"/> reads its
/// weights from panels made for it (<see cref="GemvPanels"/>, one sequential run per thread); the lanes and the
/// strips serve few-row products over weights without panels (a training step's, or a weight two products read differently).
/// From 17 to 32 rows (64 where k ≥ 512) x · W goes to
/// <see cref="GemmFewRows"/> (the GEMM's micro-kernel tiles over column tasks that each walk all of k) instead.
/// The chunking depends on the shape alone (not on the thread count), so results do not depend on the
/// thread count. With B rows contiguous one row of A is summed in the same order as a few, so a batched
/// decode step's projections give each sequence the bits it gets alone (<see cref="GemmFewRows"/> keeps the
/// chunks); the unembedding does too without 512-bit vectors, and with them blocks of eight rows agree with a
/// row alone to rounding (a different order over k). Launches reuse one job object per calling thread: no closure or other allocation per launch.
/// </summary>
internal static unsafe class Gemv
{
    /// <summary>The most rows of A the streaming strips take (beyond, x · W goes to <see cref="GemmFewRows"/> up to 32 rows, 64 with a long k); beyond, packing pays for itself.</summary>
    public const int MaxStreamedRows = 16;

    /// <summary>Columns per packed strip (one 512-bit vector, two 256-bit ones, a row).</summary>
    internal const int StripWidth = 16;

    /// <summary>Columns (rows of W) per task of the transposed layout: its two or four read streams (<see cref="GemvTransposedTiles"/>) 16–32 columns long.</summary>
    private const int TransposedColumns = 64;

    /// <summary>
    /// Column tasks a lanes product (<see cref="GemvTransposedLanes"/>) is cut into at least, where its columns allow:
    /// 16 while the lanes fit in L1 (k ≤ 512), so a narrow product (15M's projection back to d, 288 × 288) keeps
    /// both threads busy (~0.026 ms against 0.037 in 9 tasks); 8 beyond, where every task reads the lanes from L2
    /// again (15M's 288 × 1152: 0.086 ms against 0.100 in 18 tasks).
    /// </summary>
    private static int MinLaneTasks(int k) => (long)k * GemvTransposedLanes.Lanes * sizeof(float) <= 32 * 1024 ? 16 : 8;

    /// <summary>About this many chunks of rows of B (the parallelism of the row-major layout).</summary>
    private const int RowChunks = 8;

    /// <summary>
    /// Chunks one row of A reads in step per task (row-major layout): four streams a quarter of B apart. A
    /// chunk of a decode projection is a few rows of a few KiB, so alone it is read as four short runs
    /// (four rows) one row apart, which the prefetchers follow badly (≈1.3× slower, measured on 15M's layers).
    /// </summary>
    private const int LockstepChunks = 4;

    /// <summary>Columns per task of the row-major layout with a few rows (whole strips).</summary>
    private const int FewRowsColumns = 8 * StripWidth;

    /// <summary>Whether <see cref="Run"/> handles this shape without packing.</summary>
    public static bool Applies(int m, int n, int k, in Gemm.Operand a, in Gemm.Operand b) =>
        (m == 1 && a.ColStride == 1 && (b.ColStride == 1 || b.RowStride == 1)) ||
        (n == 1 && a.ColStride == 1 && b.RowStride == 1) ||
        (m <= MaxStreamedRows && n >= 4 * StripWidth && a.ColStride == 1 && (b.ColStride == 1 || b.RowStride == 1) && Fma.IsSupported) ||
        GemmFewRows.Applies(m, n, k, a, b);

    /// <summary>Rows of B per chunk of the row-major layout: a function of k alone, a multiple of 4.</summary>
    public static int ChunkRows(int k) => Math.Max(16, (k + 4 * RowChunks - 1) / (4 * RowChunks) * 4);

    public static void Run(int batch, int m, int n, int k, float* a, in Gemm.Operand opA, float* b, in Gemm.Operand opB, float* c) =>
        Run(batch, m, n, k, a, opA, b, opB, null, c);

    /// <param name="b16">B as bfloat16 words, read instead of <paramref name="b"/> (which is then null); null: f32. Widening needs AVX2 and FMA: the caller (<see cref="MatMulKernel"/>) passes words only where the CPU has them.</param>
    public static void Run(int batch, int m, int n, int k, float* a, in Gemm.Operand opA, float* b, in Gemm.Operand opB, ushort* b16, float* c)
    {
        Debug.Assert(b16 is null || (Avx2.IsSupported && Fma.IsSupported), "bf16 words need AVX2 and FMA to widen");
        if (GemmFewRows.Applies(m, n, k, opA, opB))
        {
            GemmFewRows.Run(batch, m, n, k, a, opA, b, opB, b16, c);
            return;
        }
        var job = _job ??= new Job();
        bool rowMajor = n > 1 && opB.ColStride == 1;
        int chunks = rowMajor ? (k + ChunkRows(k) - 1) / ChunkRows(k) : 1;
        // Chunks after the first sum into scratch, added into C once all are done.
        using var partials = chunks > 1 ? Scratch.RentShared((long)(chunks - 1) * batch * m * n) : null;
        using var lanes = UsesLanes(m, n, opB, b16) ? Scratch.RentShared((long)batch * k * GemvTransposedLanes.Lanes) : null;
        for (int bi = 0; lanes is not null && bi < batch; bi++)
            GemvTransposedLanes.Transpose(m, k, a + (opA.Offsets is null ? 0 : opA.Offsets[bi]), opA.RowStride, lanes.Pointer + (long)bi * k * GemvTransposedLanes.Lanes);
        job.Set(batch, m, n, k, a, opA, b, opB, b16, c, chunks, partials is null ? null : partials.Pointer, lanes is null ? null : lanes.Pointer);
        try
        {
            Par.For(job.Tasks, job.OpsPerTask, job.Body);
        }
        finally
        {
            job.Clear();
        }
        if (partials is not null)
        {
            long size = (long)batch * m * n;
            var sum = new Span<float>(c, checked((int)size));
            for (int q = 1; q < chunks; q++)
                TensorPrimitives.Add(sum, new ReadOnlySpan<float>(partials.Pointer + (q - 1) * size, (int)size), sum);
        }
    }

    [ThreadStatic] private static Job? _job;

    /// <summary>
    /// Whether x · Wᵀ takes all of A's rows in vector lanes (<see cref="GemvTransposedLanes"/>): 8 to 16 rows with
    /// 512-bit vectors, f32 columns. bf16 words keep the strips (<see cref="GemvTransposedPacked"/>): widening them
    /// for the lanes' broadcasts measured slower than the strips there, per word or per chunk into L1 (~1.3×),
    /// and no faster from one 32-bit broadcast per two words (shifted and masked; the same bits as the strips).
    /// </summary>
    private static bool UsesLanes(int m, int n, in Gemm.Operand opB, ushort* b16) =>
        Vector512.IsHardwareAccelerated && b16 is null && m >= 8 && m <= GemvTransposedLanes.Lanes && n > 1 && opB.ColStride != 1;

    private enum Layout { RowMajor, Transposed, Dots }

    /// <summary>The state of one launch, shared read-only by the threads that run its tasks.</summary>
    private sealed class Job
    {
        public readonly Action<int, int> Body;
        private Layout _layout;
        private int _batch, _m, _n, _k, _chunkRows, _chunks, _chunkTasks, _columnsPerTask, _columnTasks;
        private float* _a, _b, _c, _partials, _lanes;
        private ushort* _b16;
        private Gemm.Operand _opA, _opB;

        public Job() => Body = Execute;

        public int Tasks { get; private set; }
        public long OpsPerTask { get; private set; }

        public void Set(int batch, int m, int n, int k, float* a, in Gemm.Operand opA, float* b, in Gemm.Operand opB, ushort* b16, float* c, int chunks, float* partials, float* lanes)
        {
            _lanes = lanes;
            (_batch, _m, _n, _k, _opA, _opB, _chunks) = (batch, m, n, k, opA, opB, chunks);
            _a = a;
            _b = b;
            _b16 = b16;
            _c = c;
            _partials = partials;
            _chunkRows = ChunkRows(k);
            if (n == 1)
            {
                // One dot product per output element: a row of A with a column of B, both contiguous in k.
                _layout = Layout.Dots;
                (_columnsPerTask, _columnTasks) = (1, m);
                OpsPerTask = 2L * k;
            }
            else if (opB.ColStride == 1)
            {
                _layout = Layout.RowMajor;
                _columnsPerTask = m == 1 ? n : Math.Min(n, FewRowsColumns);
                _columnTasks = (n + _columnsPerTask - 1) / _columnsPerTask;
                OpsPerTask = 2L * Math.Min(k, _chunkRows) * m * _columnsPerTask;
            }
            else
            {
                _layout = Layout.Transposed;
                // Lanes: narrower tasks where n is small (MinLaneTasks), so a projection back to d still keeps every thread busy.
                int perTask = lanes is null ? TransposedColumns : Math.Clamp(n / MinLaneTasks(k) / 8 * 8, 8, TransposedColumns);
                (_columnsPerTask, _columnTasks) = (perTask, (n + perTask - 1) / perTask);
                OpsPerTask = 2L * k * m * perTask;
            }
            // One row of A reads four chunks of B's rows per task, in step (see GemvRowKernels.FourChunksTimesRows).
            _chunkTasks = _layout == Layout.RowMajor && m == 1 ? (_chunks + LockstepChunks - 1) / LockstepChunks : _chunks;
            if (_chunkTasks < _chunks) OpsPerTask *= LockstepChunks;
            Tasks = batch * _chunkTasks * _columnTasks;
        }

        public void Clear()
        {
            (_opA, _opB) = (default, default);
            _a = _b = _c = _partials = _lanes = null;
            _b16 = null;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Execute(int first, int last)
        {
            int perBatch = _chunkTasks * _columnTasks;
            long size = (long)_m * _n;
            for (int t = first; t < last; t++)
            {
                int bi = t / perBatch, rest = t % perBatch, q = rest / _columnTasks;
                int j0 = rest % _columnTasks * _columnsPerTask, columns = Math.Min(_columnsPerTask, _n - j0);
                float* a = _a + (_opA.Offsets is null ? 0 : _opA.Offsets[bi]);
                long bOffset = _opB.Offsets is null ? 0 : _opB.Offsets[bi];
                float* b = _b + bOffset;
                ushort* b16 = _b16 is null ? null : _b16 + bOffset;
                switch (_layout)
                {
                    case Layout.RowMajor:
                        if (_m == 1)
                        {
                            if (b16 is not null) ChunksOfOneRow<ushort, Bf16Words>(q, bi, a, b16, j0, columns);
                            else ChunksOfOneRow<float, F32Words>(q, bi, a, b, j0, columns);
                            break;
                        }
                        int p0 = q * _chunkRows, rows = Math.Min(_chunkRows, _k - p0);
                        long chunk = p0 * _opB.RowStride + j0;
                        float* c = Partial(q, bi);
                        if (b16 is not null) StreamRows<ushort, Bf16Words>(_m, _n, rows, a + p0, _opA.RowStride, b16 + chunk, _opB.RowStride, c + j0, columns);
                        else StreamRows<float, F32Words>(_m, _n, rows, a + p0, _opA.RowStride, b + chunk, _opB.RowStride, c + j0, columns);
                        break;
                    case Layout.Transposed:
                        if (_lanes is not null) GemvTransposedLanes.Run(_m, _n, _k, _lanes + (long)bi * _k * GemvTransposedLanes.Lanes, b, _opB.ColStride, _c + bi * size, j0, columns);
                        else if (b16 is not null) GemvTransposedTiles.Run<ushort, Bf16Words>(_m, _n, _k, a, _opA.RowStride, b16, _opB.ColStride, _c + bi * size, j0, columns);
                        else GemvTransposedTiles.Run<float, F32Words>(_m, _n, _k, a, _opA.RowStride, b, _opB.ColStride, _c + bi * size, j0, columns);
                        break;
                    default:
                        int i = j0;
                        float* ai = a + i * _opA.RowStride;
                        _c[bi * size + i] = b16 is not null ? GemvRowKernels.Dot<ushort, Bf16Words>(_k, ai, b16) : GemvRowKernels.Dot<float, F32Words>(_k, ai, b);
                        break;
                }
            }
        }

        /// <summary>Where chunk <paramref name="q"/> of batch <paramref name="bi"/> sums: chunk 0 into C itself, chunk q into its own partial (batch-major like C).</summary>
        private float* Partial(int q, int bi) => (q == 0 ? _c : _partials + (long)(q - 1) * _batch * _m * _n) + (long)bi * _m * _n;

        /// <summary>
        /// One row of A against the chunks g, g + G, g + 2G, g + 3G of B's rows (G the chunk tasks): four
        /// chunks a chunk task apart in step when all four are whole (four read streams far apart), else each alone.
        /// </summary>
        private void ChunksOfOneRow<T, TWords>(int g, int bi, float* a, T* b, int j0, int columns)
            where T : unmanaged where TWords : IWeightWords<T>
        {
            long rsB = _opB.RowStride;
            int q3 = g + 3 * _chunkTasks;
            if (q3 < _chunks && (q3 + 1) * _chunkRows <= _k)
            {
                long apart = (long)_chunkTasks * _chunkRows;
                float* x = a + g * _chunkRows;
                T* rows = b + g * _chunkRows * rsB + j0;
                GemvRowKernels.FourChunksTimesRows<T, TWords>(_chunkRows, x, apart, rows, apart * rsB, rsB,
                    Partial(g, bi) + j0, Partial(g + _chunkTasks, bi) + j0, Partial(g + 2 * _chunkTasks, bi) + j0, Partial(q3, bi) + j0, columns);
                return;
            }
            for (int q = g; q < _chunks; q += _chunkTasks)
            {
                int p0 = q * _chunkRows, count = Math.Min(_chunkRows, _k - p0);
                GemvRowKernels.RowTimesRows<T, TWords>(count, a + p0, b + p0 * rsB + j0, rsB, Partial(q, bi) + j0, columns);
            }
        }
    }

    /// <summary>
    /// C [m, columns] = A [m, k] · B [k, columns] for a few rows, B rows contiguous (C rows <paramref name="ldc"/>
    /// apart): B's whole strips of 16 columns are first copied row by row into one contiguous f32 block
    /// (<see cref="PackStrips{T, TWords}"/>), then strip by strip 4 rows × 16 columns of C are kept in
    /// registers while the strip, 64 contiguous bytes a row, is read from L1 once per 4 rows. A last part
    /// strip reads B in place. B stored as <typeparamref name="T"/> (f32, or bf16 words widened while copying).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void StreamRows<T, TWords>(int m, long ldc, int k, float* a, long rsA, T* b, long rsB, float* c, int columns)
        where T : unmanaged where TWords : IWeightWords<T>
    {
        int whole = columns / StripWidth * StripWidth;
        float* packed = PackStrips<T, TWords>(k, b, rsB, whole);
        // Where 512-bit vectors run, blocks of eight rows take two strips at a time (one vector a strip row).
        int wide = Vector512.IsHardwareAccelerated ? m / 8 * 8 : 0;
        for (int j0 = 0; wide > 0 && j0 + 2 * StripWidth <= whole; j0 += 2 * StripWidth)
        {
            float* strip = packed + (long)j0 * k;
            for (int i0 = 0; i0 < wide; i0 += 8) EightRowsTwoStrips(k, a + i0 * rsA, rsA, strip, strip + (long)k * StripWidth, c + j0 + i0 * ldc, ldc);
        }
        int pairedColumns = wide > 0 ? whole / (2 * StripWidth) * 2 * StripWidth : 0;
        for (int j0 = 0; j0 < columns; j0 += StripWidth)
        {
            float* cStrip = c + j0;
            if (j0 + StripWidth > columns)
            {
                T* bStrip = b + j0;
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < columns - j0; j++)
                    {
                        float sum = 0;
                        for (int p = 0; p < k; p++)
                            sum = MathF.FusedMultiplyAdd(a[i * rsA + p], TWords.ToSingle(bStrip[p * rsB + j]), sum);
                        cStrip[i * ldc + j] = sum;
                    }
                continue;
            }
            float* strip = packed + (long)j0 * k;   // strip j0 / 16: k rows of 16 floats
            int i0 = j0 < pairedColumns ? wide : 0;
            for (; i0 + 4 <= m; i0 += 4) FourRows<float, F32Words>(k, a + i0 * rsA, rsA, strip, StripWidth, cStrip + i0 * ldc, ldc);
            for (; i0 < m; i0++) OneRow<float, F32Words>(k, a + i0 * rsA, strip, StripWidth, cStrip + i0 * ldc);
        }
    }

    /// <summary>
    /// The first <paramref name="columns"/> (whole strips) of <paramref name="k"/> rows of B as f32, strip-major
    /// (strip s: k rows of 16 floats, contiguous) in this thread's scratch (<see cref="GemmFewRows.PackRows{T, TWords}"/>,
    /// row by row). Every row group then reads its strip from L1, and bf16 words are widened once, not once per
    /// group. Copying and widening are exact, so the sums are the bits they were.
    /// </summary>
    private static float* PackStrips<T, TWords>(int k, T* b, long rsB, int columns)
        where T : unmanaged where TWords : IWeightWords<T>
    {
        float* packed = Scratch.ThreadLocal(Scratch.PackB, Math.Max(1L, (long)k * columns));
        GemmFewRows.PackRows<T, TWords>(k, b, rsB, columns, StripWidth, packed);
        return packed;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FourRows<T, TWords>(int k, float* a, long rsA, T* b, long rsB, float* c, long ldc)
        where T : unmanaged where TWords : IWeightWords<T>
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        float* a0 = a, a1 = a + rsA, a2 = a + 2 * rsA, a3 = a + 3 * rsA;
        for (int p = 0; p < k; p++)
        {
            T* row = b + p * rsB;
            var b0 = TWords.Load8(row);
            var b1 = TWords.Load8(row + 8);
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

    /// <summary>
    /// Eight rows × two packed strips (32 columns) of C in sixteen 512-bit accumulators: per row of the strips
    /// two vector loads and eight broadcasts feed sixteen fused multiply-adds of 16 lanes. Each element is the
    /// chain <see cref="FourRows{T, TWords}"/> and the one-row kernels compute (p in order from zero), so the bits are theirs.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    /// <param name="ahead">Null, or memory to prefetch <paramref name="aheadStep"/> bytes of per k step (the columns a transposed task packs next, <see cref="GemvTransposedPacked"/>), so reading them overlaps these products.</param>
    internal static void EightRowsTwoStrips(int k, float* a, long rsA, float* s0, float* s1, float* c, long ldc, byte* ahead = null, int aheadStep = 0)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        for (int p = 0; p < k; p++)
        {
            if (ahead != null) Sse.Prefetch0(ahead + (long)p * aheadStep);
            var b0 = Vector512.Load(s0 + p * StripWidth);
            var b1 = Vector512.Load(s1 + p * StripWidth);
            float* ap = a + p;
            var x = Vector512.Create(ap[0]);
            c00 = Vector512.FusedMultiplyAdd(x, b0, c00); c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(ap[rsA]);
            c10 = Vector512.FusedMultiplyAdd(x, b0, c10); c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(ap[2 * rsA]);
            c20 = Vector512.FusedMultiplyAdd(x, b0, c20); c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(ap[3 * rsA]);
            c30 = Vector512.FusedMultiplyAdd(x, b0, c30); c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(ap[4 * rsA]);
            c40 = Vector512.FusedMultiplyAdd(x, b0, c40); c41 = Vector512.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(ap[5 * rsA]);
            c50 = Vector512.FusedMultiplyAdd(x, b0, c50); c51 = Vector512.FusedMultiplyAdd(x, b1, c51);
            x = Vector512.Create(ap[6 * rsA]);
            c60 = Vector512.FusedMultiplyAdd(x, b0, c60); c61 = Vector512.FusedMultiplyAdd(x, b1, c61);
            x = Vector512.Create(ap[7 * rsA]);
            c70 = Vector512.FusedMultiplyAdd(x, b0, c70); c71 = Vector512.FusedMultiplyAdd(x, b1, c71);
        }
        c00.Store(c); c01.Store(c + StripWidth);
        c10.Store(c + ldc); c11.Store(c + ldc + StripWidth);
        c20.Store(c + 2 * ldc); c21.Store(c + 2 * ldc + StripWidth);
        c30.Store(c + 3 * ldc); c31.Store(c + 3 * ldc + StripWidth);
        c40.Store(c + 4 * ldc); c41.Store(c + 4 * ldc + StripWidth);
        c50.Store(c + 5 * ldc); c51.Store(c + 5 * ldc + StripWidth);
        c60.Store(c + 6 * ldc); c61.Store(c + 6 * ldc + StripWidth);
        c70.Store(c + 7 * ldc); c71.Store(c + 7 * ldc + StripWidth);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void OneRow<T, TWords>(int k, float* a, T* b, long rsB, float* c)
        where T : unmanaged where TWords : IWeightWords<T>
    {
        Vector256<float> c0 = default, c1 = default;
        for (int p = 0; p < k; p++)
        {
            T* row = b + p * rsB;
            var x = Vector256.Create(a[p]);
            c0 = Fma.MultiplyAdd(x, TWords.Load8(row), c0);
            c1 = Fma.MultiplyAdd(x, TWords.Load8(row + 8), c1);
        }
        Avx.Store(c, c0);
        Avx.Store(c + 8, c1);
    }
}

using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// Batched single-precision GEMM, C[b] = A[b] · B[b] (with an optional <see cref="GemmEpilogue"/>),
/// in the GotoBLAS / BLIS layout. C is cut into a grid of tasks — batches × row ranges × column
/// ranges, as many as the cores can share evenly — and each task runs the single-threaded BLIS
/// loops over its part: for each NC block of columns and KC block of k, pack B into NR-wide
/// micro-panels; for each MC block of rows, pack A into MR-tall micro-panels; sweep every A
/// micro-panel (from L2) past each B micro-panel (from L1) with the register-tiled micro-kernel.
/// Packing goes to per-thread scratch, so tasks share nothing and launches do not allocate.
/// When K dwarfs both M and N, K is cut too (<see cref="KParts"/>): each part sums into its own
/// copy of C and the copies are added at the end. When all of B fits a modest buffer and the cut
/// can be by rows alone, B is packed once, by all threads together, before the row ranges start
/// (<see cref="SharedBRows"/>): otherwise every range would pack its own copy of the same B.
/// Operands are read through (row, column) strides, so transposed inputs (Aᵀ·B, A·Bᵀ, which
/// backward needs) cost nothing but a different packing loop. Panels are zero-padded, so the
/// micro-kernel always runs full tiles and only the store of an edge tile is partial.
/// </summary>
internal static unsafe class Gemm
{
    /// <summary>
    /// One strided matrix operand: element (i, j) of batch b is at Base[Offsets[b] + i*RowStride + j*ColStride];
    /// Offsets null means every batch reads the same matrix.
    /// </summary>
    public readonly record struct Operand(long[]? Offsets, long RowStride, long ColStride);

    public static void Run(int batch, int m, int n, int k, float* a, in Operand opA, float* b, in Operand opB, float* c) =>
        Run(batch, m, n, k, a, opA, b, opB, c, GemmEpilogue.None, GemmMicroKernel.Best);

    /// <param name="blocking">Cache blocking; null sizes it for <paramref name="kernel"/> from the host's caches (tests pass tiny blocks to reach every loop).</param>
    public static void Run(int batch, int m, int n, int k, float* a, in Operand opA, float* b, in Operand opB, float* c,
        in GemmEpilogue epilogue, in GemmMicroKernel kernel, GemmBlocking? blocking = null)
    {
        if (batch == 0 || m == 0 || n == 0) return;
        if (k == 0)
        {
            if (!epilogue.Accumulate) new Span<float>(c, checked(batch * m * n)).Clear();
            if (epilogue.Bias != null)
                for (long row = 0; row < (long)batch * m; row++) AddBias(c + row * n, epilogue.Bias, n);
            return;
        }

        if (epilogue.IsNone && Gemv.Applies(m, n, k, opA, opB))
        {
            Gemv.Run(batch, m, n, k, a, opA, b, opB, c);
            return;
        }

        // One reusable job per calling thread: no closure or other managed allocation per launch.
        var job = _job ??= new Job();
        int kParts = KParts(batch, m, n, k);
        using var partials = kParts > 1 ? Scratch.RentShared((long)(kParts - 1) * m * n) : null;
        job.Set(batch, m, n, k, kParts, partials, a, opA, b, opB, c, epilogue, kernel, blocking ?? GemmBlocking.For(kernel, CacheSizes.Host, Par.Workers));
        using var sharedB = job.SharedBFloats > 0 ? Scratch.RentShared(job.SharedBFloats) : null;
        try
        {
            if (sharedB is not null)
            {
                job.UseSharedB(sharedB.Pointer);
                Par.For(job.SharedBPanels, 3L * kernel.NR * k, job.PackSharedBBody);
            }
            Par.For(job.Tasks, job.FlopsPerTask, job.Body);
            if (kParts > 1) Par.For(m, (long)n * kParts, job.SumPartsBody);
        }
        finally
        {
            job.Clear();
        }
    }

    /// <summary>The shortest K a part of a K-cut product gets: long enough that its packing and its copy of C stay small beside its products.</summary>
    internal const int MinKPart = 512;

    private const int MaxKParts = 8;

    /// <summary>
    /// How many parts to cut K into. Where K is many times both M and N (the logits gradient
    /// dh = dL·wte: 256×768, K = 50257), cutting only C would make each tile of C stream its whole
    /// K-long strips of A and B from memory again, once per tile in the other dimension; cutting K
    /// reads each operand once, for the price of one extra copy of a small C per part. Decided from
    /// the shape alone, never the thread count, so a result does not depend on the machine's cores.
    /// </summary>
    internal static int KParts(int batch, int m, int n, int k)
    {
        if (batch != 1) return 1;
        long byShape = k / (4L * Math.Max(m, n)), byLength = k / MinKPart, byMemory = 1 + (1L << 23) / ((long)m * n);
        return (int)Math.Clamp(Math.Min(Math.Min(byShape, byLength), Math.Min(byMemory, MaxKParts)), 1, MaxKParts);
    }

    /// <summary>The most floats of B packed once for all threads (16 MiB: it stays in this machine's L3).</summary>
    private const long MaxSharedB = 4L << 20;

    /// <summary>
    /// The number of row ranges when the threads share one packed B, or 0 when they should not:
    /// sharing costs a second parallel loop (the packing) but packs B once instead of once per row
    /// range; it is taken where the cost model of <see cref="Split"/> prices it below the best cut of C.
    /// </summary>
    internal static int SharedBRows(int batch, int kParts, int m, int n, int k, in GemmMicroKernel kernel, int workers)
    {
        if (batch != 1 || kParts != 1 || workers <= 1) return 0;
        int mPanels = (m + kernel.MR - 1) / kernel.MR, nPanels = (n + kernel.NR - 1) / kernel.NR;
        int rows = Math.Min(mPanels, 4 * workers) / workers * workers;
        if (rows == 0 || (long)nPanels * kernel.NR * k > MaxSharedB) return 0;
        long taskRows = (long)(mPanels + rows - 1) / rows * kernel.MR;
        double cost = (double)rows / workers * taskRows * n * k + (16.0 * m + 3.0 * n) * k / workers;
        return cost < Split(batch, m, n, k, kernel, workers).Cost ? rows : 0;
    }

    [ThreadStatic] private static Job? _job;

    /// <summary>The state of one launch, shared read-only by the threads that run its tasks.</summary>
    private sealed class Job
    {
        public readonly Action<int, int> Body, SumPartsBody, PackSharedBBody;
        private int _m, _n, _k, _rowsPerTask, _colsPerTask, _rowSplit, _colSplit, _kParts, _kPerPart;
        private float* _a, _b, _c, _partials, _sharedB;
        private Operand _opA, _opB;
        private GemmEpilogue _epilogue;
        private GemmMicroKernel _kernel;
        private GemmBlocking _blocking;

        public Job()
        {
            Body = Execute;
            SumPartsBody = SumParts;
            PackSharedBBody = PackSharedB;
        }

        public int Tasks { get; private set; }
        public long FlopsPerTask { get; private set; }

        /// <summary>Floats of the B that all threads share, packed whole (NR-wide panels over all of K); 0 when each task packs its own.</summary>
        public long SharedBFloats { get; private set; }

        public int SharedBPanels => (_n + _kernel.NR - 1) / _kernel.NR;

        public void UseSharedB(float* packed) => _sharedB = packed;

        /// <summary>B's panels [first, last), each over all of K: panel j of the shared B starts at j·NR·K.</summary>
        private void PackSharedB(int first, int last)
        {
            int nr0 = _kernel.NR;
            for (int j = first; j < last; j++)
                PackB(_b, _opB.RowStride, _opB.ColStride, 0, _k, j * nr0, Math.Min(nr0, _n - j * nr0), _sharedB + (long)j * nr0 * _k, nr0);
        }

        /// <param name="partials">Room for <paramref name="kParts"/> − 1 copies of C (null when K is not cut).</param>
        public void Set(int batch, int m, int n, int k, int kParts, Scratch.SharedBlock? partials, float* a, in Operand opA, float* b, in Operand opB, float* c,
            in GemmEpilogue epilogue, in GemmMicroKernel kernel, GemmBlocking blocking)
        {
            (_m, _n, _k, _opA, _opB, _epilogue, _kernel) = (m, n, k, opA, opB, epilogue, kernel);
            _a = a;
            _b = b;
            _c = c;
            _partials = partials is null ? null : partials.Pointer;
            _blocking = blocking;
            _kParts = kParts;
            _kPerPart = (k + kParts - 1) / kParts;
            // The parts of K count as more independent products for the split of C.
            int sharedRows = SharedBRows(batch, kParts, m, n, k, kernel, Par.Workers);
            (_rowSplit, _colSplit) = sharedRows > 0 ? (sharedRows, 1) : Split(batch * kParts, m, n, _kPerPart, kernel, Par.Workers).Cut;
            int mPanels = (m + kernel.MR - 1) / kernel.MR, nPanels = (n + kernel.NR - 1) / kernel.NR;
            _rowsPerTask = (mPanels + _rowSplit - 1) / _rowSplit * kernel.MR;
            _colsPerTask = (nPanels + _colSplit - 1) / _colSplit * kernel.NR;
            _rowSplit = (m + _rowsPerTask - 1) / _rowsPerTask;
            _colSplit = (n + _colsPerTask - 1) / _colsPerTask;
            Tasks = batch * kParts * _rowSplit * _colSplit;
            FlopsPerTask = 2L * _rowsPerTask * _colsPerTask * _kPerPart;
            SharedBFloats = sharedRows > 0 ? (long)nPanels * kernel.NR * k : 0;
        }

        public void Clear()
        {
            (_opA, _opB) = (default, default);
            _a = _b = _c = _partials = _sharedB = null;
        }

        /// <summary>Rows [first, last) of C += every other part's copy, then the bias (added once, after the sum).</summary>
        private void SumParts(int first, int last)
        {
            long size = (long)_m * _n;
            for (int i = first; i < last; i++)
            {
                var row = new Span<float>(_c + (long)i * _n, _n);
                for (int part = 1; part < _kParts; part++)
                    TensorPrimitives.Add(row, new ReadOnlySpan<float>(_partials + (part - 1) * size + (long)i * _n, _n), row);
                if (_epilogue.Bias != null) AddBias(_c + (long)i * _n, _epilogue.Bias, _n);
            }
        }

        private void Execute(int first, int last)
        {
            var (kc0, mc0, nc0) = _blocking;
            int nc0Task = Math.Min(nc0, _colsPerTask);
            float* ap = Scratch.ThreadLocal(Scratch.PackA, (long)Math.Min(mc0, _rowsPerTask) * kc0 + 64);
            float* bp = _sharedB != null ? null : Scratch.ThreadLocal(Scratch.PackB, (long)nc0Task * kc0 + 64);
            float* edge = stackalloc float[_kernel.MR * _kernel.NR];
            int perPart = _rowSplit * _colSplit, perBatch = _kParts * perPart;
            for (int t = first; t < last; t++)
            {
                int bi = t / perBatch, part = t % perBatch / perPart, rest = t % perPart;
                int i0 = rest / _colSplit * _rowsPerTask, j0 = rest % _colSplit * _colsPerTask;
                int rows = Math.Min(_rowsPerTask, _m - i0), cols = Math.Min(_colsPerTask, _n - j0);
                int k0 = part * _kPerPart, kEnd = Math.Min(_k, k0 + _kPerPart);
                float* a = _a + (_opA.Offsets is null ? 0 : _opA.Offsets[bi]);
                float* b = _b + (_opB.Offsets is null ? 0 : _opB.Offsets[bi]);
                // Part 0 of K goes straight into C (with the epilogue's accumulate); the others into their copies (K is cut only when batch is 1).
                float* c = part == 0 ? _c + (long)bi * _m * _n : _partials + (part - 1) * (long)_m * _n;
                // Even blocks (256 rows with MC 252 would leave a 4-row block that streams all of B for little work).
                int mcStep = Even(rows, mc0, _kernel.MR), ncStep = Even(cols, nc0, _kernel.NR), kcStep = Even(kEnd - k0, kc0, 1);
                for (int jc = j0; jc < j0 + cols; jc += ncStep)
                {
                    int nc = Math.Min(ncStep, j0 + cols - jc);
                    for (int pc = k0; pc < kEnd; pc += kcStep)
                    {
                        int kc = Math.Min(kcStep, kEnd - pc);
                        bool accumulate = pc > k0 || (part == 0 && _epilogue.Accumulate);
                        // A shared B's panels run over all of K; a block packed here holds just this kc.
                        float* bBlock = _sharedB != null ? _sharedB + (long)jc * _k + (long)pc * _kernel.NR : bp;
                        long bPanelStride = _sharedB != null ? (long)_kernel.NR * _k : (long)_kernel.NR * kc;
                        if (_sharedB == null) PackB(b, _opB.RowStride, _opB.ColStride, pc, kc, jc, nc, bp, _kernel.NR);
                        for (int ic = i0; ic < i0 + rows; ic += mcStep)
                        {
                            int mc = Math.Min(mcStep, i0 + rows - ic);
                            PackA(a, _opA.RowStride, _opA.ColStride, ic, mc, pc, kc, ap, _kernel.MR);
                            MacroKernel(kc, mc, nc, ap, bBlock, bPanelStride, c + (long)ic * _n + jc, accumulate, edge);
                        }
                    }
                }
                if (_epilogue.Bias != null && _kParts == 1)
                    for (int i = i0; i < i0 + rows; i++) AddBias(c + (long)i * _n + j0, _epilogue.Bias + j0, cols);
            }
        }

        /// <summary>The step that cuts <paramref name="length"/> into as few blocks of at most <paramref name="block"/> as possible, of equal size (in whole <paramref name="unit"/>s).</summary>
        private static int Even(int length, int block, int unit)
        {
            int blocks = (length + block - 1) / block;
            int step = (length + blocks - 1) / blocks;
            return Math.Min(block, (step + unit - 1) / unit * unit);
        }

        /// <summary>Every (A micro-panel, B micro-panel) pair of one packed block: B's panel stays in L1 while A's stream past it.</summary>
        /// <param name="bPanelStride">Floats from one B micro-panel to the next.</param>
        private void MacroKernel(int kc, int mc, int nc, float* ap, float* bp, long bPanelStride, float* c, bool accumulate, float* edge)
        {
            int mr0 = _kernel.MR, nr0 = _kernel.NR;
            var run = _kernel.Run;
            float alpha = _epilogue.Alpha;
            long ldc = _n;
            for (int jr = 0; jr < nc; jr += nr0)
            {
                int nr = Math.Min(nr0, nc - jr);
                float* bPanel = bp + jr / nr0 * bPanelStride;
                for (int ir = 0; ir < mc; ir += mr0)
                {
                    int mr = Math.Min(mr0, mc - ir);
                    float* aPanel = ap + (long)ir * kc;
                    float* tile = c + ir * ldc + jr;
                    if (mr == mr0 && nr == nr0)
                    {
                        run(kc, aPanel, bPanel, tile, ldc, alpha, accumulate);
                        continue;
                    }
                    run(kc, aPanel, bPanel, edge, nr0, alpha, false);
                    for (int r = 0; r < mr; r++)
                    {
                        var from = new ReadOnlySpan<float>(edge + r * nr0, nr);
                        var to = new Span<float>(tile + r * ldc, nr);
                        if (accumulate) TensorPrimitives.Add(from, to, to);
                        else from.CopyTo(to);
                    }
                }
            }
        }
    }

    /// <summary>
    /// How many row ranges × column ranges to cut each matrix into. A parallel-for hands each task its
    /// own range while there are at most four per worker, and threads take ranges as they come free,
    /// so four per worker keeps both cores busy even when one is slowed by other load (a shared
    /// machine) — fewer, larger tasks leave one core idle at the end. Among the cuts with the most
    /// tasks (up to that), the cheapest wins: the largest task's product plus the packing, where
    /// every column range repacks its rows of A and every row range its columns of B.
    /// </summary>
    private static ((int Rows, int Cols) Cut, double Cost) Split(int batch, int m, int n, int k, in GemmMicroKernel kernel, int workers)
    {
        if (workers <= 1 || batch >= 4 * workers) return ((1, 1), double.MaxValue);
        int mPanels = (m + kernel.MR - 1) / kernel.MR, nPanels = (n + kernel.NR - 1) / kernel.NR;
        (int, int) best = (1, 1);
        double bestCost = double.MaxValue;
        int bestTasks = batch;
        for (int rows = 1; rows <= Math.Min(mPanels, 4 * workers); rows++)
        for (int cols = 1; cols <= Math.Min(nPanels, 4 * workers); cols++)
        {
            int tasks = batch * rows * cols;
            if (tasks > 4 * workers || tasks < bestTasks || (tasks % workers != 0 && tasks != batch)) continue;
            long taskRows = (long)(mPanels + rows - 1) / rows * kernel.MR, taskCols = (long)(nPanels + cols - 1) / cols * kernel.NR;
            // In multiply-adds, per worker: the products, plus packing. An element of A costs about 16 of
            // them (scalar interleaving of MR rows), one of B about 3 (vector copies or 8×8 transposes).
            double cost = (double)tasks / workers * taskRows * taskCols * k
                + (16.0 * cols * m + 3.0 * rows * n) * k / workers;
            if (tasks > bestTasks || cost < bestCost) (best, bestCost, bestTasks) = ((rows, cols), cost, tasks);
        }
        return (best, bestCost);
    }

    private static void AddBias(float* row, float* bias, int n)
    {
        var span = new Span<float>(row, n);
        TensorPrimitives.Add(span, new ReadOnlySpan<float>(bias, n), span);
    }

    /// <summary>Rows [i0, i0+mc) × columns [p0, p0+kc) of A into MR-row panels: panel[p*MR + r] = A[i0+r, p0+p], zero-padded.</summary>
    internal static void PackA(float* a, long rs, long cs, int i0, int mc, int p0, int kc, float* dst, int mr0)
    {
        for (int ip = 0; ip < mc; ip += mr0)
        {
            int mr = Math.Min(mr0, mc - ip);
            float* panel = dst + (long)ip * kc;
            float* origin = a + (long)(i0 + ip) * rs + (long)p0 * cs;
            if (rs == 1 && mr == mr0)
            {
                // Transposed A (Aᵀ·B): each k step's MR values are contiguous.
                for (int p = 0; p < kc; p++) CopyShort(origin + p * cs, panel + p * mr0, mr0);
                continue;
            }
            if (cs == 1 && mr == mr0 && Avx.IsSupported)
            {
                // Rows contiguous in k (the usual A): transpose 8 k steps × up to 8 rows in registers.
                // A group of fewer than 8 rows stores 8 lanes anyway, spilling zeros into the next
                // columns; the spill is always overwritten later (the lower group, the next row, the
                // next block or panel) or lands in the scratch's slack, so the higher group goes first.
                int p = 0;
                for (; p + 8 <= kc; p += 8)
                    for (int g = (mr0 - 1) / 8 * 8; g >= 0; g -= 8)
                        Transpose8x8(origin + g * rs + p, rs, Math.Min(8, mr0 - g), panel + p * mr0 + g, mr0);
                for (; p < kc; p++)
                    for (int r = 0; r < mr0; r++)
                        panel[p * mr0 + r] = origin[r * rs + p];
                continue;
            }
            if (cs == 1)
            {
                // An edge panel: each row once, down the panel's column.
                for (int r = 0; r < mr; r++)
                {
                    float* row = origin + r * rs;
                    for (int p = 0; p < kc; p++) panel[p * mr0 + r] = row[p];
                }
            }
            else
            {
                for (int p = 0; p < kc; p++)
                for (int r = 0; r < mr; r++)
                    panel[p * mr0 + r] = origin[p * cs + r * rs];
            }
            if (mr < mr0)
                for (int p = 0; p < kc; p++)
                    new Span<float>(panel + p * mr0 + mr, mr0 - mr).Clear();
        }
    }

    /// <summary>Rows [p0, p0+kc) × columns [j0, j0+nc) of B into NR-wide panels: panel[p*NR + j] = B[p0+p, j0+j], zero-padded.</summary>
    private static void PackB(float* b, long rs, long cs, int p0, int kc, int j0, int nc, float* dst, int nr0)
    {
        for (int jp = 0; jp < nc; jp += nr0)
        {
            int nr = Math.Min(nr0, nc - jp);
            float* panel = dst + (long)jp * kc;
            float* origin = b + (long)p0 * rs + (long)(j0 + jp) * cs;
            if (cs == 1)
            {
                for (int p = 0; p < kc; p++) CopyShort(origin + p * rs, panel + p * nr0, nr);
            }
            else if (rs == 1 && nr == nr0 && nr0 % 8 == 0 && Avx.IsSupported)
            {
                // Transposed B (A·Bᵀ): columns are contiguous in k; transpose 8×8 blocks in registers.
                int p = 0;
                for (; p + 8 <= kc; p += 8)
                    for (int j = 0; j < nr0; j += 8)
                        Transpose8x8(origin + j * cs + p, cs, 8, panel + p * nr0 + j, nr0);
                for (; p < kc; p++)
                    for (int j = 0; j < nr0; j++)
                        panel[p * nr0 + j] = origin[j * cs + p];
                continue;
            }
            else
            {
                for (int j = 0; j < nr; j++)
                {
                    float* col = origin + j * cs;
                    for (int p = 0; p < kc; p++) panel[p * nr0 + j] = col[p * rs];
                }
            }
            if (nr < nr0)
                for (int p = 0; p < kc; p++)
                    new Span<float>(panel + p * nr0 + nr, nr0 - nr).Clear();
        }
    }

    /// <summary>A short contiguous copy (one panel row), in vectors where the length allows.</summary>
    private static void CopyShort(float* from, float* to, int count)
    {
        int i = 0;
        for (; i + 8 <= count; i += 8) Vector256.Store(Vector256.Load(from + i), to + i);
        for (; i < count; i++) to[i] = from[i];
    }

    /// <summary>
    /// dst[r*ldd + c] = src[c*lds + r] for an 8×8 block (AVX: unpack, shuffle, swap 128-bit halves);
    /// only the first <paramref name="rows"/> source rows are read, the rest count as zeros.
    /// Stores go in ascending destination rows. Inlined, so a constant row count drops the checks.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Transpose8x8(float* src, long lds, int rows, float* dst, long ldd) =>
        Transpose8x8<float, F32Words>(src, lds, rows, dst, ldd);

    /// <summary><see cref="Transpose8x8(float*, long, int, float*, long)"/> from weights stored as <typeparamref name="T"/> (bf16 words widened as they load, exactly).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Transpose8x8<T, TWords>(T* src, long lds, int rows, float* dst, long ldd)
        where T : unmanaged where TWords : IWeightWords<T>
    {
        var z = Vector256<float>.Zero;
        var r0 = TWords.Load8(src);
        var r1 = rows > 1 ? TWords.Load8(src + lds) : z;
        var r2 = rows > 2 ? TWords.Load8(src + 2 * lds) : z;
        var r3 = rows > 3 ? TWords.Load8(src + 3 * lds) : z;
        var r4 = rows > 4 ? TWords.Load8(src + 4 * lds) : z;
        var r5 = rows > 5 ? TWords.Load8(src + 5 * lds) : z;
        var r6 = rows > 6 ? TWords.Load8(src + 6 * lds) : z;
        var r7 = rows > 7 ? TWords.Load8(src + 7 * lds) : z;
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(dst, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(dst + ldd, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(dst + 2 * ldd, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(dst + 3 * ldd, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(dst + 4 * ldd, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(dst + 5 * ldd, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(dst + 6 * ldd, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(dst + 7 * ldd, Avx.Permute2x128(u3, u7, 0x31));
    }
}

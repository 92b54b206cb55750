using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// The 256-bit attention tiles (AVX2 + FMA, or any Vector256 machine), the fallback where Vector512 is not
/// accelerated: query blocks of 8 (one ymm), micro-kernel 8 rows × 8 in 8 ymm accumulators (what 16 registers hold
/// beside B and a broadcast, and enough independent chains to cover the FMA latency).
/// </summary>
internal sealed unsafe class AttentionTiles256 : AttentionTiles
{
    public override string Name => "avx2 8x8";
    public override int Lanes => 8;
    public override int Rows => 8;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Product(float* a, long depthStride, float* b, long ldb, int depth, float* c, long ldc, int rows, int columns, bool accumulate)
    {
        for (int r = 0; r < rows; r += 8)
            for (int n = 0; n < columns; n += 8)
                Tile(a + r, depthStride, b + n, ldb, depth, c + r * ldc + n, ldc, accumulate);
    }

    /// <summary>C[8 × 8] (+)= A·B: 8 accumulators, per depth step one load of B and 8 broadcasts of A.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile(float* a, long depthStride, float* b, long ldb, int depth, float* c, long ldc, bool accumulate)
    {
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default;
        Vector256<float> c4 = default, c5 = default, c6 = default, c7 = default;
        if (accumulate)
        {
            c0 = Vector256.Load(c + 0 * ldc);
            c1 = Vector256.Load(c + 1 * ldc);
            c2 = Vector256.Load(c + 2 * ldc);
            c3 = Vector256.Load(c + 3 * ldc);
            c4 = Vector256.Load(c + 4 * ldc);
            c5 = Vector256.Load(c + 5 * ldc);
            c6 = Vector256.Load(c + 6 * ldc);
            c7 = Vector256.Load(c + 7 * ldc);
        }
        for (int p = 0; p < depth; p++)
        {
            var x = Vector256.Load(b);
            c0 = Vector256.FusedMultiplyAdd(Vector256.Create(a[0]), x, c0);
            c1 = Vector256.FusedMultiplyAdd(Vector256.Create(a[1]), x, c1);
            c2 = Vector256.FusedMultiplyAdd(Vector256.Create(a[2]), x, c2);
            c3 = Vector256.FusedMultiplyAdd(Vector256.Create(a[3]), x, c3);
            c4 = Vector256.FusedMultiplyAdd(Vector256.Create(a[4]), x, c4);
            c5 = Vector256.FusedMultiplyAdd(Vector256.Create(a[5]), x, c5);
            c6 = Vector256.FusedMultiplyAdd(Vector256.Create(a[6]), x, c6);
            c7 = Vector256.FusedMultiplyAdd(Vector256.Create(a[7]), x, c7);
            a += depthStride;
            b += ldb;
        }
        c0.Store(c + 0 * ldc);
        c1.Store(c + 1 * ldc);
        c2.Store(c + 2 * ldc);
        c3.Store(c + 3 * ldc);
        c4.Store(c + 4 * ldc);
        c5.Store(c + 5 * ldc);
        c6.Store(c + 6 * ldc);
        c7.Store(c + 7 * ldc);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void ColumnDots(float* a, float* b, int depth, float* result)
    {
        var sum = Vector256<float>.Zero;
        for (int p = 0; p < depth; p++) sum = Vector256.FusedMultiplyAdd(Vector256.Load(a + p * 8), Vector256.Load(b + p * 8), sum);
        sum.Store(result);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void AccumulateTransposed(float* tile, float* b, long ldb, int depth, float* c, long ldc, int rows, int columns)
    {
        for (int r = 0; r < rows; r += 8)
            for (int n = 0; n < columns; n += 8)
                TileOfRows(tile + r * 8, b + n, ldb, depth, c + r * ldc + n, ldc);
    }

    /// <summary>C[8 × 8] += A·B with A(r, p) = a[r·8 + p]: a score tile read along its keys (the backward's Pᵀ·dO and dSᵀ·Q).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TileOfRows(float* a, float* b, long ldb, int depth, float* c, long ldc)
    {
        var c0 = Vector256.Load(c + 0 * ldc);
        var c1 = Vector256.Load(c + 1 * ldc);
        var c2 = Vector256.Load(c + 2 * ldc);
        var c3 = Vector256.Load(c + 3 * ldc);
        var c4 = Vector256.Load(c + 4 * ldc);
        var c5 = Vector256.Load(c + 5 * ldc);
        var c6 = Vector256.Load(c + 6 * ldc);
        var c7 = Vector256.Load(c + 7 * ldc);
        for (int p = 0; p < depth; p++)
        {
            var x = Vector256.Load(b);
            c0 = Vector256.FusedMultiplyAdd(Vector256.Create(a[0]), x, c0);
            c1 = Vector256.FusedMultiplyAdd(Vector256.Create(a[8]), x, c1);
            c2 = Vector256.FusedMultiplyAdd(Vector256.Create(a[16]), x, c2);
            c3 = Vector256.FusedMultiplyAdd(Vector256.Create(a[24]), x, c3);
            c4 = Vector256.FusedMultiplyAdd(Vector256.Create(a[32]), x, c4);
            c5 = Vector256.FusedMultiplyAdd(Vector256.Create(a[40]), x, c5);
            c6 = Vector256.FusedMultiplyAdd(Vector256.Create(a[48]), x, c6);
            c7 = Vector256.FusedMultiplyAdd(Vector256.Create(a[56]), x, c7);
            a++;
            b += ldb;
        }
        c0.Store(c + 0 * ldc);
        c1.Store(c + 1 * ldc);
        c2.Store(c + 2 * ldc);
        c3.Store(c + 3 * ldc);
        c4.Store(c + 4 * ldc);
        c5.Store(c + 5 * ldc);
        c6.Store(c + 6 * ldc);
        c7.Store(c + 7 * ldc);
    }

    /// <summary>The lanes (queries) of key <paramref name="j"/> that see it; all-zero past the block's last key.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Visible(int j, int keys, Vector256<int> queries, int causalOffset) =>
        j < keys ? (Vector256.GreaterThanOrEqual(Vector256<int>.Indices, Vector256.Create(j + causalOffset)) & Vector256.LessThan(Vector256<int>.Indices, queries)).AsSingle()
            : Vector256<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void SoftmaxBlock(float* tile, int keyRows, int keys, int queries, int causalOffset, float scale, float* max, float* sum, float* rescale)
    {
        var rows = Vector256.Create(queries);
        var scaling = Vector256.Create(scale);
        var masked = Vector256.Create(float.NegativeInfinity);
        var blockMax = masked;
        for (int j = 0; j < keyRows; j++)
        {
            float* key = tile + j * 8;
            var x = Vector256.ConditionalSelect(Visible(j, keys, rows, causalOffset), Vector256.Load(key) * scaling, masked);
            x.Store(key);
            blockMax = Vector256.MaxNative(blockMax, x);
        }
        var oldMax = Vector256.Load(max);
        var newMax = Vector256.MaxNative(oldMax, blockMax);
        // exp(old − new), but exactly 1 where the maximum stayed (both −∞ included: a lane that has seen no key yet)
        // and 0 where nothing was seen before, so no ∞ − ∞ reaches the accumulators.
        var factor = Vector256.ConditionalSelect(Vector256.Equals(oldMax, newMax), Vector256<float>.One,
            Vector256.ConditionalSelect(Vector256.Equals(oldMax, masked), Vector256<float>.Zero, Exp(oldMax - newMax)));
        var total = Vector256<float>.Zero;
        for (int j = 0; j < keyRows; j++)
        {
            float* key = tile + j * 8;
            var x = Vector256.Load(key);
            var p = Vector256.ConditionalSelect(Vector256.Equals(x, masked), Vector256<float>.Zero, Exp(x - newMax));
            p.Store(key);
            total += p;
        }
        Vector256.FusedMultiplyAdd(Vector256.Load(sum), factor, total).Store(sum);
        newMax.Store(max);
        factor.Store(rescale);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void GradientBlock(float* scores, float* gradScores, int keyRows, int keys, int queries, int causalOffset, float scale,
        float* max, float* inverseSum, float* rowDot)
    {
        var rows = Vector256.Create(queries);
        var scaling = Vector256.Create(scale);
        var (m, inverse, dot) = (Vector256.Load(max), Vector256.Load(inverseSum), Vector256.Load(rowDot));
        for (int j = 0; j < keyRows; j++)
        {
            float* s = scores + j * 8, g = gradScores + j * 8;
            var visible = Visible(j, keys, rows, causalOffset);
            var p = Vector256.ConditionalSelect(visible, Exp(Vector256.Load(s) * scaling - m) * inverse, Vector256<float>.Zero);
            p.Store(s);
            Vector256.ConditionalSelect(visible, p * (Vector256.Load(g) - dot) * scaling, Vector256<float>.Zero).Store(g);
        }
    }

    /// <summary>
    /// e^x for the softmax's x ≤ 0 (a score less its row maximum), in float: 2^n·e^r with n = round(x·log₂e), r within
    /// ±ln2/2 and Cephes' degree-6 polynomial (about 1 ulp). The runtime's vector exp widens to double for the
    /// whole float range (and Vector512's runs in software, about 20 times the cost of this). Below −87.3, where e^x
    /// leaves float's normal range, it returns 0: a peaked softmax has many such keys, and denormal probabilities
    /// would only slow every product they enter, for nothing a sum can tell.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Exp(Vector256<float> x)
    {
        var underflows = Vector256.LessThan(x, Vector256.Create(-87.3f));
        x = Vector256.MaxNative(x, Vector256.Create(-87.3f));
        // n = round(x·log₂e) by adding 1.5·2²³ (which leaves n in the low mantissa bits), and 2^n from those bits.
        var shifted = Vector256.FusedMultiplyAdd(x, Vector256.Create(1.44269504f), Vector256.Create(12582912f));
        var n = shifted - Vector256.Create(12582912f);
        var r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-0.693359375f), x);
        r = Vector256.FusedMultiplyAdd(n, Vector256.Create(2.12194440e-4f), r);
        var p = Vector256.FusedMultiplyAdd(Vector256.Create(1.9875691500e-4f), r, Vector256.Create(1.3981999507e-3f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(8.3334519073e-3f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(4.1665795894e-2f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.6666665459e-1f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(5.0000001201e-1f));
        var y = Vector256.FusedMultiplyAdd(p * r, r, r) + Vector256<float>.One;
        return Vector256.ConditionalSelect(underflows, Vector256<float>.Zero, y * Vector256.ShiftLeft(shifted.AsInt32() - Vector256.Create(0x4B400000 - 127), 23).AsSingle());
    }
}

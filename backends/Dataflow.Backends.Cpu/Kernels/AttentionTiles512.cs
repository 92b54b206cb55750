using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// The AVX-512 attention tiles: query blocks of 16 (one zmm), micro-kernel 16 rows × 16 in 16 zmm accumulators, which
/// leaves half the register file free. Written with portable Vector512 calls, so where Vector512 is not accelerated it
/// still runs (in software, slowly): the tests check it on any machine.
/// </summary>
internal sealed unsafe class AttentionTiles512 : AttentionTiles
{
    public override string Name => "avx512 16x16";
    public override int Lanes => 16;
    public override int Rows => 16;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Product(float* a, long depthStride, float* b, long ldb, int depth, float* c, long ldc, int rows, int columns, bool accumulate)
    {
        for (int r = 0; r < rows; r += 16)
            for (int n = 0; n < columns; n += 16)
                Tile(a + r, depthStride, b + n, ldb, depth, c + r * ldc + n, ldc, accumulate);
    }

    /// <summary>C[16 × 16] (+)= A·B: 16 accumulators, per depth step one load of B and 16 broadcasts of A.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile(float* a, long depthStride, float* b, long ldb, int depth, float* c, long ldc, bool accumulate)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default;
        Vector512<float> c4 = default, c5 = default, c6 = default, c7 = default;
        Vector512<float> c8 = default, c9 = default, c10 = default, c11 = default;
        Vector512<float> c12 = default, c13 = default, c14 = default, c15 = default;
        if (accumulate)
        {
            c0 = Vector512.Load(c + 0 * ldc);
            c1 = Vector512.Load(c + 1 * ldc);
            c2 = Vector512.Load(c + 2 * ldc);
            c3 = Vector512.Load(c + 3 * ldc);
            c4 = Vector512.Load(c + 4 * ldc);
            c5 = Vector512.Load(c + 5 * ldc);
            c6 = Vector512.Load(c + 6 * ldc);
            c7 = Vector512.Load(c + 7 * ldc);
            c8 = Vector512.Load(c + 8 * ldc);
            c9 = Vector512.Load(c + 9 * ldc);
            c10 = Vector512.Load(c + 10 * ldc);
            c11 = Vector512.Load(c + 11 * ldc);
            c12 = Vector512.Load(c + 12 * ldc);
            c13 = Vector512.Load(c + 13 * ldc);
            c14 = Vector512.Load(c + 14 * ldc);
            c15 = Vector512.Load(c + 15 * ldc);
        }
        for (int p = 0; p < depth; p++)
        {
            var x = Vector512.Load(b);
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(a[0]), x, c0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(a[1]), x, c1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(a[2]), x, c2);
            c3 = Vector512.FusedMultiplyAdd(Vector512.Create(a[3]), x, c3);
            c4 = Vector512.FusedMultiplyAdd(Vector512.Create(a[4]), x, c4);
            c5 = Vector512.FusedMultiplyAdd(Vector512.Create(a[5]), x, c5);
            c6 = Vector512.FusedMultiplyAdd(Vector512.Create(a[6]), x, c6);
            c7 = Vector512.FusedMultiplyAdd(Vector512.Create(a[7]), x, c7);
            c8 = Vector512.FusedMultiplyAdd(Vector512.Create(a[8]), x, c8);
            c9 = Vector512.FusedMultiplyAdd(Vector512.Create(a[9]), x, c9);
            c10 = Vector512.FusedMultiplyAdd(Vector512.Create(a[10]), x, c10);
            c11 = Vector512.FusedMultiplyAdd(Vector512.Create(a[11]), x, c11);
            c12 = Vector512.FusedMultiplyAdd(Vector512.Create(a[12]), x, c12);
            c13 = Vector512.FusedMultiplyAdd(Vector512.Create(a[13]), x, c13);
            c14 = Vector512.FusedMultiplyAdd(Vector512.Create(a[14]), x, c14);
            c15 = Vector512.FusedMultiplyAdd(Vector512.Create(a[15]), x, c15);
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
        c8.Store(c + 8 * ldc);
        c9.Store(c + 9 * ldc);
        c10.Store(c + 10 * ldc);
        c11.Store(c + 11 * ldc);
        c12.Store(c + 12 * ldc);
        c13.Store(c + 13 * ldc);
        c14.Store(c + 14 * ldc);
        c15.Store(c + 15 * ldc);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void ColumnDots(float* a, float* b, int depth, float* result)
    {
        var sum = Vector512<float>.Zero;
        for (int p = 0; p < depth; p++) sum = Vector512.FusedMultiplyAdd(Vector512.Load(a + p * 16), Vector512.Load(b + p * 16), sum);
        sum.Store(result);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void AccumulateTransposed(float* tile, float* b, long ldb, int depth, float* c, long ldc, int rows, int columns)
    {
        for (int r = 0; r < rows; r += 16)
            for (int n = 0; n < columns; n += 16)
                TileOfRows(tile + r * 16, b + n, ldb, depth, c + r * ldc + n, ldc);
    }

    /// <summary>C[16 × 16] += A·B with A(r, p) = a[r·16 + p]: a score tile read along its keys (the backward's Pᵀ·dO and dSᵀ·Q).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TileOfRows(float* a, float* b, long ldb, int depth, float* c, long ldc)
    {
        var c0 = Vector512.Load(c + 0 * ldc);
        var c1 = Vector512.Load(c + 1 * ldc);
        var c2 = Vector512.Load(c + 2 * ldc);
        var c3 = Vector512.Load(c + 3 * ldc);
        var c4 = Vector512.Load(c + 4 * ldc);
        var c5 = Vector512.Load(c + 5 * ldc);
        var c6 = Vector512.Load(c + 6 * ldc);
        var c7 = Vector512.Load(c + 7 * ldc);
        var c8 = Vector512.Load(c + 8 * ldc);
        var c9 = Vector512.Load(c + 9 * ldc);
        var c10 = Vector512.Load(c + 10 * ldc);
        var c11 = Vector512.Load(c + 11 * ldc);
        var c12 = Vector512.Load(c + 12 * ldc);
        var c13 = Vector512.Load(c + 13 * ldc);
        var c14 = Vector512.Load(c + 14 * ldc);
        var c15 = Vector512.Load(c + 15 * ldc);
        for (int p = 0; p < depth; p++)
        {
            var x = Vector512.Load(b);
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(a[0]), x, c0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(a[16]), x, c1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(a[32]), x, c2);
            c3 = Vector512.FusedMultiplyAdd(Vector512.Create(a[48]), x, c3);
            c4 = Vector512.FusedMultiplyAdd(Vector512.Create(a[64]), x, c4);
            c5 = Vector512.FusedMultiplyAdd(Vector512.Create(a[80]), x, c5);
            c6 = Vector512.FusedMultiplyAdd(Vector512.Create(a[96]), x, c6);
            c7 = Vector512.FusedMultiplyAdd(Vector512.Create(a[112]), x, c7);
            c8 = Vector512.FusedMultiplyAdd(Vector512.Create(a[128]), x, c8);
            c9 = Vector512.FusedMultiplyAdd(Vector512.Create(a[144]), x, c9);
            c10 = Vector512.FusedMultiplyAdd(Vector512.Create(a[160]), x, c10);
            c11 = Vector512.FusedMultiplyAdd(Vector512.Create(a[176]), x, c11);
            c12 = Vector512.FusedMultiplyAdd(Vector512.Create(a[192]), x, c12);
            c13 = Vector512.FusedMultiplyAdd(Vector512.Create(a[208]), x, c13);
            c14 = Vector512.FusedMultiplyAdd(Vector512.Create(a[224]), x, c14);
            c15 = Vector512.FusedMultiplyAdd(Vector512.Create(a[240]), x, c15);
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
        c8.Store(c + 8 * ldc);
        c9.Store(c + 9 * ldc);
        c10.Store(c + 10 * ldc);
        c11.Store(c + 11 * ldc);
        c12.Store(c + 12 * ldc);
        c13.Store(c + 13 * ldc);
        c14.Store(c + 14 * ldc);
        c15.Store(c + 15 * ldc);
    }

    /// <summary>The lanes (queries) of key <paramref name="j"/> that see it; all-zero past the block's last key.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Visible(int j, int keys, Vector512<int> queries, int causalOffset) =>
        j < keys ? (Vector512.GreaterThanOrEqual(Vector512<int>.Indices, Vector512.Create(j + causalOffset)) & Vector512.LessThan(Vector512<int>.Indices, queries)).AsSingle()
            : Vector512<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void SoftmaxBlock(float* tile, int keyRows, int keys, int queries, int causalOffset, float scale, float* max, float* sum, float* rescale)
    {
        var rows = Vector512.Create(queries);
        var scaling = Vector512.Create(scale);
        var masked = Vector512.Create(float.NegativeInfinity);
        var blockMax = masked;
        for (int j = 0; j < keyRows; j++)
        {
            float* key = tile + j * 16;
            var x = Vector512.ConditionalSelect(Visible(j, keys, rows, causalOffset), Vector512.Load(key) * scaling, masked);
            x.Store(key);
            blockMax = Vector512.MaxNative(blockMax, x);
        }
        var oldMax = Vector512.Load(max);
        var newMax = Vector512.MaxNative(oldMax, blockMax);
        // exp(old − new), but exactly 1 where the maximum stayed (both −∞ included: a lane that has seen no key yet)
        // and 0 where nothing was seen before, so no ∞ − ∞ reaches the accumulators.
        var factor = Vector512.ConditionalSelect(Vector512.Equals(oldMax, newMax), Vector512<float>.One,
            Vector512.ConditionalSelect(Vector512.Equals(oldMax, masked), Vector512<float>.Zero, Exp(oldMax - newMax)));
        var total = Vector512<float>.Zero;
        for (int j = 0; j < keyRows; j++)
        {
            float* key = tile + j * 16;
            var x = Vector512.Load(key);
            var p = Vector512.ConditionalSelect(Vector512.Equals(x, masked), Vector512<float>.Zero, Exp(x - newMax));
            p.Store(key);
            total += p;
        }
        Vector512.FusedMultiplyAdd(Vector512.Load(sum), factor, total).Store(sum);
        newMax.Store(max);
        factor.Store(rescale);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void GradientBlock(float* scores, float* gradScores, int keyRows, int keys, int queries, int causalOffset, float scale,
        float* max, float* inverseSum, float* rowDot)
    {
        var rows = Vector512.Create(queries);
        var scaling = Vector512.Create(scale);
        var (m, inverse, dot) = (Vector512.Load(max), Vector512.Load(inverseSum), Vector512.Load(rowDot));
        for (int j = 0; j < keyRows; j++)
        {
            float* s = scores + j * 16, g = gradScores + j * 16;
            var visible = Visible(j, keys, rows, causalOffset);
            var p = Vector512.ConditionalSelect(visible, Exp(Vector512.Load(s) * scaling - m) * inverse, Vector512<float>.Zero);
            p.Store(s);
            Vector512.ConditionalSelect(visible, p * (Vector512.Load(g) - dot) * scaling, Vector512<float>.Zero).Store(g);
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
    private static Vector512<float> Exp(Vector512<float> x)
    {
        var underflows = Vector512.LessThan(x, Vector512.Create(-87.3f));
        x = Vector512.MaxNative(x, Vector512.Create(-87.3f));
        // n = round(x·log₂e) by adding 1.5·2²³ (which leaves n in the low mantissa bits), and 2^n from those bits.
        var shifted = Vector512.FusedMultiplyAdd(x, Vector512.Create(1.44269504f), Vector512.Create(12582912f));
        var n = shifted - Vector512.Create(12582912f);
        var r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-0.693359375f), x);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(2.12194440e-4f), r);
        var p = Vector512.FusedMultiplyAdd(Vector512.Create(1.9875691500e-4f), r, Vector512.Create(1.3981999507e-3f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(8.3334519073e-3f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(4.1665795894e-2f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.6666665459e-1f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(5.0000001201e-1f));
        var y = Vector512.FusedMultiplyAdd(p * r, r, r) + Vector512<float>.One;
        return Vector512.ConditionalSelect(underflows, Vector512<float>.Zero, y * Vector512.ShiftLeft(shifted.AsInt32() - Vector512.Create(0x4B400000 - 127), 23).AsSingle());
    }
}

using System.Runtime.Intrinsics;

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// The register-tiled pieces of the fused attention kernels in one instruction set. A score tile is held
/// transposed, [<see cref="KeyBlock"/> keys × <see cref="QueryBlock"/> queries], so that one key's scores for the
/// whole query block are one vector: the online softmax's running maximum and sum per query are then plain
/// vector max and add across keys (no horizontal reduction), and the tile is already in the layout a product
/// that sums over keys broadcasts from. Every product is the same small matmul, C (+)= A·B with A's rows
/// contiguous and one depth stride, B row-major: the micro-kernel is <see cref="Rows"/> rows × one vector.
/// </summary>
internal abstract unsafe class AttentionTiles
{
    /// <summary>Keys per block of the online softmax (a multiple of <see cref="Rows"/> for both instruction sets).</summary>
    public const int KeyBlock = 32;

    public abstract string Name { get; }

    /// <summary>Floats per vector; product columns are a multiple of it.</summary>
    public abstract int Lanes { get; }

    /// <summary>Query rows per block: one vector of them (so <see cref="Lanes"/>).</summary>
    public int QueryBlock => Lanes;

    /// <summary>Rows of a micro-kernel tile; product rows are a multiple of it.</summary>
    public abstract int Rows { get; }

    /// <summary>
    /// c[rows × columns] (+)= A·B over <paramref name="depth"/>: A(r, p) = a[p·depthStride + r], B(p, n) = b[p·ldb + n],
    /// C(r, n) = c[r·ldc + n]; rows a multiple of <see cref="Rows"/>, columns of <see cref="Lanes"/>.
    /// </summary>
    public abstract void Product(float* a, long depthStride, float* b, long ldb, int depth, float* c, long ldc, int rows, int columns, bool accumulate);

    /// <summary>
    /// c[rows × columns] += Tᵀ·B for a score tile T [rows keys × <see cref="QueryBlock"/> queries] read along its keys:
    /// C(j, n) += Σ_{i &lt; depth} T(j, i)·b[i·ldb + n] (dV += Pᵀ·dO, dK += dSᵀ·Q) with no transposed copy of the tile.
    /// </summary>
    public abstract void AccumulateTransposed(float* tile, float* b, long ldb, int depth, float* c, long ldc, int rows, int columns);

    /// <summary>
    /// One key block of the forward's online softmax. <paramref name="tile"/> holds the raw scores of
    /// <paramref name="keyRows"/> keys (rows) for the query block (lanes); on return it holds exp(score·scale − max)
    /// with the new running maximum, 0 where masked. Lane r of key j is visible when j &lt; <paramref name="keys"/>,
    /// r &lt; <paramref name="queries"/> and r ≥ j + <paramref name="causalOffset"/> (j0 − i0 for a causal slice, very
    /// negative otherwise). <paramref name="max"/> and <paramref name="sum"/> (one per lane) are updated;
    /// <paramref name="rescale"/> receives the factor that what was accumulated before this block must be multiplied by.
    /// </summary>
    public abstract void SoftmaxBlock(float* tile, int keyRows, int keys, int queries, int causalOffset, float scale, float* max, float* sum, float* rescale);

    /// <summary>
    /// One key block of the backward: with the masking of <see cref="SoftmaxBlock"/>, the raw scores in
    /// <paramref name="scores"/> become the probabilities p = exp(score·scale − max)·inverseSum, and the
    /// dO·vⱼ in <paramref name="gradScores"/> become dS = p·(dP − rowDot)·scale (0 where masked).
    /// </summary>
    public abstract void GradientBlock(float* scores, float* gradScores, int keyRows, int keys, int queries, int causalOffset, float scale,
        float* max, float* inverseSum, float* rowDot);

    /// <summary>
    /// result[r] = Σ_p a[p·<see cref="Lanes"/> + r]·b[p·<see cref="Lanes"/> + r] for one query block held transposed
    /// (a lane per query), one fused multiply-add per depth step in depth order: the order <see cref="Product"/> sums in.
    /// </summary>
    public abstract void ColumnDots(float* a, float* b, int depth, float* result);

    public static AttentionTiles Avx512 { get; } = new AttentionTiles512();
    public static AttentionTiles Avx2 { get; } = new AttentionTiles256();

    /// <summary>The widest tiles this CPU runs natively: 512-bit where the JIT accelerates it (AVX-512), else 256-bit.</summary>
    public static AttentionTiles Best { get; } = Vector512.IsHardwareAccelerated ? Avx512 : Avx2;

    /// <summary>A lane's "no causal limit": j + this is never above a lane index, and never overflows.</summary>
    public const int NotCausal = -(1 << 30);

    public static int RoundUp(int n, int multiple) => (n + multiple - 1) / multiple * multiple;
}

using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// Touches a C tile's cache lines before the micro-kernel's k loop, so they arrive while it computes.
/// The macro-kernel walks C down a column of tiles, one row stride (often many KiB, a new page) per
/// row; without this, every tile's rows miss in cache and TLB at the store, which costs large
/// matrices (n in the thousands) a fifth of their speed.
/// </summary>
internal static unsafe class GemmPrefetch
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Tile(float* c, long ldc, int rows, int cols)
    {
        if (!Sse.IsSupported) return;
        for (int r = 0; r < rows; r++)
        {
            float* row = c + r * ldc;
            // A row of the tile is cols floats and may straddle one more line than it fills.
            for (int j = 0; j < cols; j += 16) Sse.Prefetch0(row + j);
            Sse.Prefetch0(row + cols - 1);
        }
    }
}

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// Cache blocking for one micro-kernel, BLIS style: an MR×KC micro-panel of A fills half of L1; the
/// MC×KC block of A stays in half of L2; the KC×NC block of B in this core's share of half of L3. Sizes
/// are rounded to whole micro-tiles.
/// </summary>
/// <remarks>
/// KC from A's micro-panel, not B's: a k step of the 12×32 kernel reads two vectors of B and twelve floats of
/// A for 24 fused multiply-adds, little enough that L2 serves B's micro-panel at full speed, so B's need not
/// fit in L1; a longer KC loads and stores each tile of C fewer times per multiply-add and packs in fewer,
/// longer runs. Measured on Zen 4 (L1 32 KiB, L2 1 MiB), two threads, best of 24 interleaved: KC 336 (this
/// rule) against the 128 of a B panel in half of L1, 1024³ 180 against 171 GFLOP/s, 2048³ 171 against 168,
/// GPT-2's fc x · W (256 × 3072 × 768) 151 against 123; KC 384 was within noise of 336.
/// </remarks>
internal readonly record struct GemmBlocking(int KC, int MC, int NC)
{
    public static GemmBlocking For(in GemmMicroKernel kernel, CacheSizes caches, int workers)
    {
        int kc = Clamp(caches.L1 / 2 / (kernel.MR * sizeof(float)) / 16 * 16, 64, 512);
        int mc = Clamp(caches.L2 / 2 / (kc * sizeof(float)) / kernel.MR * kernel.MR, kernel.MR, 4096 / kernel.MR * kernel.MR);
        int nc = Clamp(caches.L3 / 2 / Math.Max(1, workers) / (kc * sizeof(float)) / kernel.NR * kernel.NR, kernel.NR, 4096);
        return new GemmBlocking(kc, mc, nc);
    }

    private static int Clamp(long value, int min, int max) => (int)Math.Clamp(value, min, max);
}

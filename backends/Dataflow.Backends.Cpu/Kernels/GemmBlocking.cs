namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// Cache blocking for one micro-kernel, BLIS style: a KC×NR micro-panel of B stays in half of L1
/// while the micro-kernel sweeps the A block; the MC×KC block of A stays in half of L2; the KC×NC
/// block of B in this core's share of half of L3. Sizes are rounded to whole micro-tiles.
/// </summary>
internal readonly record struct GemmBlocking(int KC, int MC, int NC)
{
    public static GemmBlocking For(in GemmMicroKernel kernel, CacheSizes caches, int workers)
    {
        int kc = Clamp(caches.L1 / 2 / (kernel.NR * sizeof(float)) / 16 * 16, 64, 512);
        int mc = Clamp(caches.L2 / 2 / (kc * sizeof(float)) / kernel.MR * kernel.MR, kernel.MR, 4096 / kernel.MR * kernel.MR);
        int nc = Clamp(caches.L3 / 2 / Math.Max(1, workers) / (kc * sizeof(float)) / kernel.NR * kernel.NR, kernel.NR, 4096);
        return new GemmBlocking(kc, mc, nc);
    }

    private static int Clamp(long value, int min, int max) => (int)Math.Clamp(value, min, max);
}

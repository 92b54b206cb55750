using System.Runtime.Intrinsics;

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// One register-tiled micro-kernel: C[MR×NR] = alpha · Apanel[kc×MR]ᵀ · Bpanel[kc×NR] (+ C when
/// accumulating), with A packed MR floats per k step and B NR floats per k step. <see cref="Gemm"/>
/// packs and blocks for whichever kernel it is given, so the two instruction sets share one driver.
/// </summary>
internal readonly unsafe struct GemmMicroKernel(string name, int mr, int nr, delegate*<int, float*, float*, float*, long, float, bool, void> run)
{
    public string Name { get; } = name;
    public int MR { get; } = mr;
    public int NR { get; } = nr;

    /// <summary>(kc, packed A, packed B, C tile, C row stride, alpha, accumulate).</summary>
    public delegate*<int, float*, float*, float*, long, float, bool, void> Run { get; } = run;

    public static GemmMicroKernel Avx512 => new("avx512 12x32", GemmKernel512.MR, GemmKernel512.NR, &GemmKernel512.Run);
    public static GemmMicroKernel Avx2 => new("avx2 6x16", GemmKernel256.MR, GemmKernel256.NR, &GemmKernel256.Run);

    /// <summary>The 512-bit tile of eight rows, for products of a few tens of rows (<see cref="GemmFewRows"/>).</summary>
    public static GemmMicroKernel Avx512EightRows => new("avx512 8x32", GemmKernel512.FewMR, GemmKernel512.NR, &GemmKernel512.RunEightRows);

    /// <summary>The widest kernel this CPU runs natively: 512-bit where the JIT accelerates it (AVX-512), else 256-bit.</summary>
    public static GemmMicroKernel Best { get; } = Vector512.IsHardwareAccelerated ? Avx512 : Avx2;
}

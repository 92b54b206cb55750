using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// The head-width vector loops the fused attention kernels run per (query, key) pair: a dot product and
/// y += a·x, in 512-bit vectors where the machine has them (a head of 32 or 64 floats is two or four), else 256.
/// </summary>
internal static unsafe class AttentionRows
{
    /// <summary>The kernels index rows and slices with ints; a slice's Kᵀ lives in one thread's scratch.</summary>
    public static void CheckSizes(string kernel, long batchHeads, long queries, long keys, long width)
    {
        if (width <= 0 || width > int.MaxValue / 4 || keys * width > int.MaxValue / 4 || batchHeads * queries > int.MaxValue)
            throw new NotSupportedException($"cpu: {kernel} of {batchHeads}x{queries}x{keys}x{width}");
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(float* x, float* y, int n)
    {
        int j = 0;
        float sum = 0;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            var acc = Vector512<float>.Zero;
            for (; j + 16 <= n; j += 16) acc = Vector512.FusedMultiplyAdd(Vector512.Load(x + j), Vector512.Load(y + j), acc);
            sum = Vector512.Sum(acc);
        }
        else if (n >= 8)
        {
            var acc = Vector256<float>.Zero;
            for (; j + 8 <= n; j += 8) acc = Vector256.FusedMultiplyAdd(Vector256.Load(x + j), Vector256.Load(y + j), acc);
            sum = Vector256.Sum(acc);
        }
        for (; j < n; j++) sum = MathF.FusedMultiplyAdd(x[j], y[j], sum);
        return sum;
    }

    /// <summary>into += a · x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AddScaled(float* into, float* x, float a, int n)
    {
        int j = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var w = Vector512.Create(a);
            for (; j + 16 <= n; j += 16) Vector512.FusedMultiplyAdd(w, Vector512.Load(x + j), Vector512.Load(into + j)).Store(into + j);
        }
        var v = Vector256.Create(a);
        for (; j + 8 <= n; j += 8) Vector256.FusedMultiplyAdd(v, Vector256.Load(x + j), Vector256.Load(into + j)).Store(into + j);
        for (; j < n; j++) into[j] = MathF.FusedMultiplyAdd(a, x[j], into[j]);
    }

    /// <summary>x *= a.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Scale(float* x, float a, int n)
    {
        int j = 0;
        var v = Vector256.Create(a);
        for (; j + 8 <= n; j += 8) (Vector256.Load(x + j) * v).Store(x + j);
        for (; j < n; j++) x[j] *= a;
    }
}

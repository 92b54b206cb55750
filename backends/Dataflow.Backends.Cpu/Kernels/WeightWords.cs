using Dataflow.Graph.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// How a kernel generic over weight storage reads a weight's words as f32 (a static interface, so each
/// storage gets its own compiled loop, no call per load): 8 at a time into a vector, or one.
/// </summary>
internal unsafe interface IWeightWords<T> where T : unmanaged
{
    static abstract Vector256<float> Load8(T* p);
    static abstract float ToSingle(T word);
}

/// <summary>Weights stored as f32.</summary>
internal readonly struct F32Words : IWeightWords<float>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static unsafe Vector256<float> Load8(float* p) => Vector256.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float ToSingle(float word) => word;
}

/// <summary>Weights stored as bfloat16, widened exactly (<see cref="Bf16"/>).</summary>
internal readonly struct Bf16Words : IWeightWords<ushort>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static unsafe Vector256<float> Load8(ushort* p) => Bf16.Load8(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float ToSingle(ushort word) => BFloat16.ToSingle(word);
}

using System.Buffers.Binary;

namespace Dataflow.Engine.Data;

/// <summary>
/// xoshiro256** seeded through SplitMix64. Unlike <see cref="System.Random"/>, its sequence is fixed
/// by this file, not by the runtime version, and its whole state can be saved in a checkpoint and
/// restored, so a resumed run draws exactly what the uninterrupted run would have.
/// </summary>
public sealed class SeededRandom
{
    public const int StateSize = 32;

    private ulong _s0, _s1, _s2, _s3;

    public SeededRandom(ulong seed)
    {
        // SplitMix64 spreads any seed (0 included) over the 256-bit state; xoshiro must not start all-zero.
        _s0 = SplitMix64(ref seed);
        _s1 = SplitMix64(ref seed);
        _s2 = SplitMix64(ref seed);
        _s3 = SplitMix64(ref seed);
    }

    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, <paramref name="maxExclusive"/>), without modulo bias (Lemire's method).</summary>
    public int NextInt(int maxExclusive)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxExclusive);
        uint bound = (uint)maxExclusive;
        ulong product = (ulong)(uint)(NextUInt64() >> 32) * bound;
        if ((uint)product < bound)
        {
            uint threshold = (0u - bound) % bound;
            while ((uint)product < threshold) product = (ulong)(uint)(NextUInt64() >> 32) * bound;
        }
        return (int)(product >> 32);
    }

    /// <summary>Uniform in [0, 1) with 53 bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Fisher–Yates: every permutation equally likely.</summary>
    public void Shuffle<T>(Span<T> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    public byte[] GetState()
    {
        var state = new byte[StateSize];
        BinaryPrimitives.WriteUInt64LittleEndian(state.AsSpan(0), _s0);
        BinaryPrimitives.WriteUInt64LittleEndian(state.AsSpan(8), _s1);
        BinaryPrimitives.WriteUInt64LittleEndian(state.AsSpan(16), _s2);
        BinaryPrimitives.WriteUInt64LittleEndian(state.AsSpan(24), _s3);
        return state;
    }

    public void SetState(ReadOnlySpan<byte> state)
    {
        if (state.Length != StateSize) throw new ArgumentException($"a random state is {StateSize} bytes, not {state.Length}", nameof(state));
        ulong s0 = BinaryPrimitives.ReadUInt64LittleEndian(state), s1 = BinaryPrimitives.ReadUInt64LittleEndian(state[8..]);
        ulong s2 = BinaryPrimitives.ReadUInt64LittleEndian(state[16..]), s3 = BinaryPrimitives.ReadUInt64LittleEndian(state[24..]);
        if ((s0 | s1 | s2 | s3) == 0) throw new ArgumentException("an all-zero random state is invalid (the generator would emit only zeros)", nameof(state));
        (_s0, _s1, _s2, _s3) = (s0, s1, s2, s3);
    }

    private static ulong SplitMix64(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }
}

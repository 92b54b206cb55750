namespace Dataflow.Engine.Backends;

/// <summary>
/// A counter-based random number generator: the value at index i depends only on (seed, i), so
/// every backend can produce the same dropout mask in parallel, and conformance can compare them.
/// GPU backends implement the same 32-bit arithmetic in their kernel languages.
/// </summary>
public static class CounterRng
{
    public static uint Hash(ulong seed, uint index)
    {
        uint x = index * 0x9E3779B9u ^ (uint)seed ^ ((uint)(seed >> 32) * 0x85EBCA6Bu);
        x ^= x >> 16;
        x *= 0x7FEB352Du;
        x ^= x >> 15;
        x *= 0x846CA68Bu;
        x ^= x >> 16;
        return x;
    }

    /// <summary>Uniform in [0, 1) with 24 bits of precision.</summary>
    public static float Uniform(ulong seed, uint index) => (Hash(seed, index) >> 8) * (1.0f / 16777216.0f);

    /// <summary>The dropout mask value: 0 with probability p, else 1/(1-p) so the expectation is unchanged.</summary>
    public static float DropoutKeep(ulong seed, uint index, float p) => Uniform(seed, index) >= p ? 1.0f / (1.0f - p) : 0.0f;
}

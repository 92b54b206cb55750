using System.Buffers.Binary;
using Dataflow.Engine.Data;

namespace Dataflow.Reinforcement;

/// <summary>
/// Indices 0 … count − 1 in a seeded order, reshuffled every pass: which prompts a GRPO step samples,
/// which pairs a preference batch holds. The order of pass k depends on the seed and k alone, so the
/// state is the position only (it goes into checkpoints, and a resumed run sees the same indices).
/// </summary>
internal sealed class ShuffledCycle(int count, int seed)
{
    private long _position, _pass = -1;
    private int[] _order = [];

    public int Next()
    {
        long pass = _position / count;
        if (pass != _pass)
        {
            _order = [.. Enumerable.Range(0, count)];
            new SeededRandom((ulong)(uint)seed * 0x9E3779B97F4A7C15UL + (ulong)pass).Shuffle(_order.AsSpan());
            _pass = pass;
        }
        return _order[(int)(_position++ % count)];
    }

    public int[] Next(int n) => [.. Enumerable.Range(0, n).Select(_ => Next())];

    public long Position
    {
        get => _position;
        set => _position = value;
    }

    public byte[] GetState()
    {
        var state = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(state, _position);
        return state;
    }

    public void SetState(ReadOnlySpan<byte> state)
    {
        if (state.Length != 8) throw new DataException($"the checkpoint's batch state is {state.Length} bytes, not this run's 8");
        _position = BinaryPrimitives.ReadInt64LittleEndian(state);
    }
}

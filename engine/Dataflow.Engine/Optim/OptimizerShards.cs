using Dataflow.Engine.Backends;
using Dataflow.Engine.Frame;
using Dataflow.Engine.Sessions;

namespace Dataflow.Engine.Optim;

/// <summary>
/// Which rank owns (updates, and alone holds the moments of) each parameter under ZeRO stage 1: the
/// parameters in name order, cut into contiguous runs of about equal size, like PyTorch's
/// ZeroRedundancyOptimizer (whole parameters, not flat slices). The cut depends only on the names and
/// sizes, so every rank computes the same one; contiguous runs make the gather of the moments to
/// rank 0 one gather-v whose result is every parameter's moment end to end.
/// </summary>
public sealed class OptimizerShards
{
    private readonly ParameterSlot[] _slots;
    private readonly int[] _owners;
    private readonly int[] _counts;
    private readonly IOptimizerSharding _sharding;
    private float[] _staging = [];

    public OptimizerShards(ParameterStore parameters, IOptimizerSharding sharding)
    {
        _sharding = sharding;
        // Frozen parameters (a LoRA base) are never updated, so nobody owns them and nothing gathers them.
        _slots = [.. parameters.Slots.Where(s => s.Trainable).OrderBy(s => s.Name, StringComparer.Ordinal)];
        long total = _slots.Sum(s => s.Elements), before = 0;
        _owners = new int[_slots.Length];
        _counts = new int[sharding.Size];
        for (int i = 0; i < _slots.Length; i++)
        {
            // The owner is the rank whose equal share of the total holds this parameter's first element.
            _owners[i] = total == 0 ? 0 : (int)Math.Min(sharding.Size - 1, before * sharding.Size / total);
            _counts[_owners[i]] = checked(_counts[_owners[i]] + (int)_slots[i].Elements);
            before += _slots[i].Elements;
        }
    }

    public bool Owns(ParameterSlot slot) => _owners[Array.IndexOf(_slots, slot)] == _sharding.Rank;

    /// <summary>Elements each rank owns (for reports and tests).</summary>
    public IReadOnlyList<int> Counts => _counts;

    /// <summary>
    /// Every parameter's updated values, from its owner, on every rank: one broadcast per parameter, in
    /// name order, through a host buffer of the largest one. (One all-gather of them all would need a
    /// host buffer of every parameter, which on the CPU backend costs about what sharding the moments saves.)
    /// </summary>
    public void GatherValues(IBackend backend)
    {
        long largest = _slots.Length == 0 ? 0 : _slots.Max(s => s.Elements);
        if (_staging.Length < largest) _staging = new float[largest];
        backend.Wait();
        for (int i = 0; i < _slots.Length; i++)
        {
            var values = _staging.AsSpan(0, (int)_slots[i].Elements);
            bool mine = _owners[i] == _sharding.Rank;
            if (mine) backend.Download(_slots[i].Value, values);
            _sharding.Broadcast(values, _owners[i]);
            if (!mine) backend.Upload(_slots[i].Value, values);
        }
    }

    /// <summary>
    /// Every optimizer moment, from its owner to rank 0 alone (which writes the checkpoint), so that
    /// the file holds the same state as without sharding: on rank 0, each parameter's
    /// <paramref name="stateTensors"/> moments by name; null on the others. Host memory on rank 0 for
    /// as long as the checkpoint is written; no rank's device holds more than its shard.
    /// </summary>
    public IReadOnlyDictionary<string, float[][]>? GatherStateToRoot(IBackend backend, int stateTensors)
    {
        const int Root = 0;
        bool root = _sharding.Rank == Root;
        var gathered = root ? _slots.ToDictionary(s => s.Name, s => new float[stateTensors][], StringComparer.Ordinal) : null;
        int all = _counts.Sum();
        for (int t = 0; t < stateTensors; t++)
        {
            float[] receive = root ? new float[all] : [];
            _sharding.Gather(Mine(backend, s => s.State.Length > t ? s.State[t]
                : throw new InvalidOperationException($"parameter '{s.Name}' has {s.State.Length} optimizer state tensors on rank {_sharding.Rank}, not {stateTensors}")),
                receive, _counts, Root);
            if (gathered is null) continue;
            int offset = 0;
            foreach (var slot in _slots)
            {
                gathered[slot.Name][t] = receive.AsSpan(offset, (int)slot.Elements).ToArray();
                offset += (int)slot.Elements;
            }
        }
        return gathered;
    }

    /// <summary>This rank's buffers, downloaded end to end in name order: what it sends in a gather (for a checkpoint, so not kept).</summary>
    private float[] Mine(IBackend backend, Func<ParameterSlot, IDeviceBuffer> buffer)
    {
        var send = new float[_counts[_sharding.Rank]];
        backend.Wait();
        int offset = 0;
        for (int i = 0; i < _slots.Length; i++)
        {
            if (_owners[i] != _sharding.Rank) continue;
            backend.Download(buffer(_slots[i]), send.AsSpan(offset, (int)_slots[i].Elements));
            offset += (int)_slots[i].Elements;
        }
        return send;
    }
}

using Dataflow.Engine.Backends;
using Dataflow.Engine.Frame;
using Dataflow.Engine.Sessions;

namespace Dataflow.Engine.Optim;

/// <summary>
/// Which rank owns (updates, and keeps current moments for) each parameter under ZeRO stage 1: the
/// parameters in name order, cut into contiguous runs of about equal size, like PyTorch's
/// ZeroRedundancyOptimizer (whole parameters, not flat slices). The cut depends only on the names and
/// sizes, so every rank computes the same one; contiguous runs make the gather one all-gather-v
/// whose result is every parameter end to end.
/// </summary>
public sealed class OptimizerShards
{
    private readonly ParameterSlot[] _slots;
    private readonly int[] _owners;
    private readonly int[] _counts;
    private readonly IOptimizerSharding _sharding;
    private float[] _send = [], _receive = [];

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

    /// <summary>Every rank's parameter values, from their owners, on every rank (after the owners' update).</summary>
    public void GatherValues(IBackend backend) => Gather(backend, s => s.Value);

    /// <summary>Every optimizer moment from its owner, so that a checkpoint holds the same state as without sharding.</summary>
    public void GatherState(IBackend backend)
    {
        int tensors = _slots.Length > 0 ? _slots[0].State.Length : 0;
        for (int t = 0; t < tensors; t++) Gather(backend, s => s.State[t]);
    }

    private void Gather(IBackend backend, Func<ParameterSlot, IDeviceBuffer> buffer)
    {
        int mine = _counts[_sharding.Rank], all = _counts.Sum();
        if (_send.Length < mine) _send = new float[mine];
        if (_receive.Length < all) _receive = new float[all];
        backend.Wait();
        int offset = 0;
        for (int i = 0; i < _slots.Length; i++)
        {
            if (_owners[i] != _sharding.Rank) continue;
            backend.Download(buffer(_slots[i]), _send.AsSpan(offset, (int)_slots[i].Elements));
            offset += (int)_slots[i].Elements;
        }
        _sharding.AllGather(_send.AsSpan(0, mine), _receive.AsSpan(0, all), _counts);
        offset = 0;
        for (int i = 0; i < _slots.Length; i++)
        {
            int n = (int)_slots[i].Elements;
            if (_owners[i] != _sharding.Rank) backend.Upload(buffer(_slots[i]), _receive.AsSpan(offset, n));
            offset += n;
        }
    }
}

namespace Dataflow.Engine.Sessions;

/// <summary>
/// The mean of several snapshots of a session's parameters, as in "Attention Is All You Need"
/// (the base model is the average of its last five checkpoints). Late in training the weights wobble
/// around a good point at the learning rate's scale; their average sits nearer the middle. Sums are
/// kept in double on the host, so a snapshot costs one download of the parameters and nothing on the device.
/// </summary>
public sealed class ParameterAverage(ParameterStore parameters)
{
    private readonly Dictionary<string, double[]> _sums = new(StringComparer.Ordinal);

    /// <summary>Snapshots added so far.</summary>
    public int Count { get; private set; }

    /// <summary>Adds the parameters as they are now.</summary>
    public void Add()
    {
        foreach (var slot in parameters.Slots)
        {
            var values = parameters.Read(slot.Value, slot.Elements);
            if (!_sums.TryGetValue(slot.Name, out var sum)) _sums[slot.Name] = sum = new double[values.Length];
            for (int i = 0; i < values.Length; i++) sum[i] += values[i];
        }
        Count++;
    }

    /// <summary>Replaces the parameters by the mean of the snapshots (optimizer state is left as it is).</summary>
    public void Apply()
    {
        if (Count == 0) throw new InvalidOperationException("no snapshot to average");
        foreach (var slot in parameters.Slots)
        {
            var sum = _sums[slot.Name];
            var mean = new float[sum.Length];
            for (int i = 0; i < sum.Length; i++) mean[i] = (float)(sum[i] / Count);
            parameters.Write(slot.Value, mean);
        }
    }
}

namespace Dataflow.Engine.Frame;

/// <summary>The optimizer's hyperparameters for one step (the schedule has already been applied).</summary>
public sealed record StepUpdate(Backends.OptimizerKind Kind, float[] Scalars, double ClipNorm);

/// <summary>
/// What one step of a compiled graph takes in and gives back. The session makes these; a training
/// step's frame is kept with its graph and refilled by the next step (<see cref="Reuse"/>), so a
/// steady step allocates nothing.
/// </summary>
public sealed class FrameContext
{
    /// <summary>Values of the graph's inputs by name: <c>float[]</c> for f32, <c>int[]</c> for i32.</summary>
    public IReadOnlyDictionary<string, Array> Inputs { get; internal set; } = NoInputs;

    private static readonly IReadOnlyDictionary<string, Array> NoInputs = new Dictionary<string, Array>();

    /// <summary>Seed for this step's random numbers (dropout); mixed with each kernel's identity.</summary>
    public ulong Seed { get; internal set; }

    /// <summary>When set, the step also updates the parameters from their gradients.</summary>
    public StepUpdate? Update { get; internal set; }

    /// <summary>With <see cref="Update"/>: what to do with the gradients before they are applied (data-parallel averaging); null: nothing.</summary>
    public IGradientExchange? Exchange { get; internal set; }

    /// <summary>With <see cref="Update"/>: update only this rank's shard of the parameters, then gather them (ZeRO-1); null: update all.</summary>
    public Optim.OptimizerShards? Shards { get; internal set; }

    /// <summary>Names of outputs to read back after the step (null: all).</summary>
    public IReadOnlyCollection<string>? Fetch { get; internal set; }

    /// <summary>
    /// Arrays owned by the caller that outputs are read into instead of fresh ones (an output of
    /// exactly that length); a decode loop passes the same logits array every token so that a step
    /// allocates nothing. The result then is that array, overwritten by the next step.
    /// </summary>
    public IReadOnlyDictionary<string, float[]>? FetchInto { get; internal set; }

    public Dictionary<string, float[]> Results { get; } = new(StringComparer.Ordinal);

    /// <summary>Global gradient norm before clipping, when the step updated parameters.</summary>
    public double GradientNorm { get; set; }

    /// <summary>True when the step's loss or gradient norm was not finite, so its update was not applied.</summary>
    public bool UpdateSkipped { get; set; }

    /// <summary>Empties what the last step gave back, before this frame carries the next step.</summary>
    internal void Reuse()
    {
        Results.Clear();
        GradientNorm = 0;
        UpdateSkipped = false;
    }
}

namespace Dataflow.Training;

/// <summary>Counts evaluations since the validation loss last improved; patience 0 never stops.</summary>
public sealed class EarlyStop(int patience)
{
    private double _best = double.PositiveInfinity;
    private int _since;

    public int Patience { get; } = patience >= 0 ? patience : throw new ArgumentOutOfRangeException(nameof(patience), patience, "must not be negative");

    /// <summary>Records a validation loss; true when the run should stop.</summary>
    public bool ShouldStop(double loss)
    {
        if (loss < _best) (_best, _since) = (loss, 0);
        else _since++;
        return Patience > 0 && _since >= Patience;
    }
}

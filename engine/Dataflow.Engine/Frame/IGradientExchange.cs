namespace Dataflow.Engine.Frame;

/// <summary>
/// Runs between the backward kernels and the optimizer update of a training step. Data-parallel
/// training replaces every gradient by its mean over all ranks here, so that the update (and the
/// clipping norm, which <see cref="OptimizeSystem"/> then computes from the exchanged gradients) is
/// the same on every rank. The engine knows nothing of how the exchange is done.
/// </summary>
public interface IGradientExchange
{
    /// <summary>
    /// <paramref name="gradients"/> are host copies, one per distinct gradient, ordered by parameter name
    /// (the same order on every rank); whatever they hold on return is uploaded before the update.
    /// </summary>
    void Exchange(IReadOnlyList<Memory<float>> gradients);
}

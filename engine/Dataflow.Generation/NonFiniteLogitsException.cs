namespace Dataflow.Generation;

/// <summary>
/// The model produced a NaN or infinite logit, so no token can be drawn: the checkpoint's weights
/// are not finite (a training run that diverged) or the model overflows. Thrown instead of emitting
/// whatever token the arithmetic happened to pick.
/// </summary>
public sealed class NonFiniteLogitsException(string message) : Exception(message);

namespace Dataflow.Engine.Frame;

// What the frame systems hand each other lives in device buffers, where the world cannot see it.
// These types name it in the systems' access declarations, so the frame schedule derives its order
// from what each system reads and writes (feed → dispatch → fetch) like any other; the access
// checker cannot verify them, since no component or resource holds them.

/// <summary>The contents of the input tensors' buffers (written by <see cref="FeedSystem"/>).</summary>
public sealed class InputValues { private InputValues() { } }

/// <summary>The contents of the buffers kernels write: activations, the loss, gradients (<see cref="DispatchSystem"/>).</summary>
public sealed class TensorValues { private TensorValues() { } }

/// <summary>The contents of the parameter buffers and optimizer moments (updated by <see cref="OptimizeSystem"/>).</summary>
public sealed class ParameterValues { private ParameterValues() { } }

/// <summary>What a step reports back in its <see cref="FrameContext"/>: fetched values, the gradient norm, a skipped update.</summary>
public sealed class StepResults { private StepResults() { } }

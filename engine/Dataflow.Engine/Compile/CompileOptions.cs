namespace Dataflow.Engine.Compile;

/// <summary>Switches for the compile schedule. Every optimisation can be turned off so a user can halve a bug.</summary>
public sealed record CompileOptions
{
    /// <summary>Fuse elementwise chains into one kernel; off gives one kernel per op.</summary>
    public bool Fusion { get; init; } = true;

    /// <summary>
    /// Let an elementwise value that is also read elsewhere (by a reduction, or by the backward pass)
    /// stay inside its consumer's fused kernel as an extra output, instead of ending the fusion there.
    /// Off gives tree fusion only (one output per kernel). Needs <see cref="Fusion"/>.
    /// </summary>
    public bool MultiOutputFusion { get; init; } = true;

    /// <summary>Reuse transient buffers by liveness; off gives every tensor its own buffer.</summary>
    public bool ReuseBuffers { get; init; } = true;

    /// <summary>How matrix weights are stored (inference only: a session that compiles a training step refuses bf16).</summary>
    public Backends.WeightStorage Weights { get; init; } = Backends.WeightStorage.F32;

    /// <summary>
    /// An inference session with f32 weights keeps a second copy of each matrix weight laid out for the
    /// products of a decode step (<see cref="Backends.IDecodeWeights"/>): faster batch-1 and batched decoding
    /// for up to twice the weights' memory. Generation turns it on; a session that also trains drops the copies.
    /// </summary>
    public bool DecodeCopies { get; init; }

    public static readonly CompileOptions Default = new();
}

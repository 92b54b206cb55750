namespace Dataflow.Engine.Compile;

/// <summary>Switches for the compile schedule. Every optimisation can be turned off so a user can halve a bug.</summary>
public sealed record CompileOptions
{
    /// <summary>Fuse elementwise chains into one kernel; off gives one kernel per op.</summary>
    public bool Fusion { get; init; } = true;

    /// <summary>Reuse transient buffers by liveness; off gives every tensor its own buffer.</summary>
    public bool ReuseBuffers { get; init; } = true;

    public static readonly CompileOptions Default = new();
}

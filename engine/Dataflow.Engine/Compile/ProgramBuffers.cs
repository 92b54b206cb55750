using Dataflow.Engine.Backends;

namespace Dataflow.Engine.Compile;

/// <summary>
/// The buffers a compiled program allocated (transient slots, inputs, outputs, states of its own),
/// freed with the program: a resource of the compile world that <see cref="MemoryPlanningSystem"/> fills.
/// </summary>
public sealed class ProgramBuffers
{
    public List<IDeviceBuffer> Owned { get; } = [];

    /// <summary>Elements in the shared transient slots.</summary>
    public long TransientElements { get; set; }

    /// <summary>Elements the transient tensors would take with a buffer each (what reuse saved from).</summary>
    public long UnplannedElements { get; set; }
}

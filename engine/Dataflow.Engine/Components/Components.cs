using Dataflow.Engine.Backends;
using Dataflow.Engine.Ecs;
using Dataflow.Graph.Ir;

namespace Dataflow.Engine.Components;

// The vocabulary of the compile and frame systems. Every graph node becomes a tensor entity and
// every kernel a kernel entity; each system adds the knowledge it derives as a component, so the
// state of a compilation can be inspected (and tested) by querying the world.

/// <summary>A tensor entity's graph node.</summary>
public struct TensorNode
{
    public Node Node;
}

/// <summary>The tensor with its shape bound to numbers (added by <see cref="Compile.ShapeBindingSystem"/>).</summary>
public struct TensorInfo
{
    public TensorDesc Desc;
}

/// <summary>The tensor is fed from outside each step.</summary>
public struct InputTag
{
    public string Name;
}

/// <summary>The tensor is a state (a key/value cache) whose storage lives in the session's state store, kept between steps.</summary>
public struct StateTag
{
    public string Name;
}

/// <summary>The tensor is a trainable parameter whose storage lives in the session's parameter store.</summary>
public struct ParamTag
{
    public string Name;
}

/// <summary>The tensor is the gradient of these parameters (several when autodiff gives them the same node, as for a + b).</summary>
public struct GradOf
{
    public string[] Parameters;
}

/// <summary>The tensor must be readable after the step under these names (model outputs, the loss, gradients).</summary>
public struct OutputTag
{
    public string[] Names;
}

/// <summary>The tensor shares storage with another (reshape and detach move no data; store_rows writes its target in place).</summary>
public struct AliasOf
{
    public Entity Source;
}

/// <summary>A kernel entity: what it computes and which tensors it reads and writes.</summary>
public struct KernelInfo
{
    public KernelSpec Spec;
    public Entity[] Inputs;
    public Entity[] Outputs;
    /// <summary>Position in dispatch order.</summary>
    public int Order;
    /// <summary>Graph nodes the kernel covers (one unless fused).</summary>
    public Node[] Nodes;
    /// <summary>Whether the kernel draws random numbers (dropout) and needs a per-step seed.</summary>
    public bool UsesSeed;
}

/// <summary>
/// A tensor entity that holds the same value as <see cref="Source"/> in storage of its own on another
/// backend (its <see cref="Residence"/>): made by <see cref="Compile.PlacementSystem"/> where a kernel
/// runs on a backend other than where the value lives, and filled by a copy kernel. Its shape is the source's.
/// </summary>
public struct CopyOf
{
    public Entity Source;
}

/// <summary>The backend a tensor's storage is allocated on, where it is not the compile's chosen backend's (added by <see cref="Compile.PlacementSystem"/>).</summary>
public struct Residence
{
    public IBackend Backend;
}

/// <summary>Which backend runs a kernel (added by <see cref="Compile.PlacementSystem"/>).</summary>
public struct Placement
{
    public IBackend Backend;
}

/// <summary>Where a tensor lives (added by <see cref="Compile.MemoryPlanningSystem"/>): a slot of the program's buffer pool or a session buffer.</summary>
public struct BufferSlot
{
    public IDeviceBuffer Buffer;
    /// <summary>Transient slot index, or -1 for buffers that outlive a step (parameters, inputs, outputs).</summary>
    public int Slot;
}

/// <summary>The compiled kernel (added by <see cref="Compile.CompileSystem"/>).</summary>
public struct CompiledKernel
{
    public ICompiledKernel Kernel;
    public IDeviceBuffer[] Buffers;
}

/// <summary>Accumulated wall time of a kernel, when profiling is on.</summary>
public struct Timing
{
    public double Milliseconds;
    public long Launches;
}

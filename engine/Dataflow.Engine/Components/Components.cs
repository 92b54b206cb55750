using Dataflow.Engine.Ecs;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;

namespace Dataflow.Engine.Components;

// The vocabulary of the compile and frame systems. Every graph node becomes a tensor entity and
// every kernel a kernel entity; each system adds the knowledge it derives as a component, so the
// state of a compilation can be inspected (and tested) by querying the world. Components are
// unmanaged structs (ids, indices, sizes, enums, entities): what is an object — a symbolic shape, a
// kernel spec, a backend, a buffer, a compiled kernel, a name — lives in a resource table
// (ResourceTable.cs, NameTable, the shared lists of EntityList.cs) and a component holds its index.

/// <summary>
/// A tensor's type as the graph declared it, before any symbol has a value (added by
/// <see cref="Compile.GraphLoadSystem"/>): <see cref="Compile.ShapeBindingSystem"/> binds it to the
/// <see cref="TensorInfo"/> the later systems read.
/// </summary>
public struct SymbolicType
{
    public DType DType;
    /// <summary>The symbolic shape (<c>[B, T, 768]</c>): a <see cref="ShapeTable"/> index.</summary>
    public int Shape;
}

/// <summary>The layer a tensor's node was lowered from (for example <c>decoder.3.attention</c>; empty at top level), for messages: a <see cref="NameTable"/> id (added by <see cref="Compile.GraphLoadSystem"/>).</summary>
public struct LayerScope
{
    public int Name;
}

/// <summary>
/// What the compile systems ask of a tensor's op, copied from its graph node at load (added by
/// <see cref="Compile.GraphLoadSystem"/>), so fusion and memory planning read components, not nodes.
/// Its dtype and shape are the <see cref="TensorInfo"/> binding gives it; the attributes that are
/// objects (axes lists, constant data, symbolic counts, names) stay whole in the <see cref="AttrsTable"/>.
/// </summary>
public struct TensorOp
{
    /// <summary>The node's id: its place in creation order, which is a topological order.</summary>
    public int Id;
    public OpCode Op;
    public OpFlags Flags;
    /// <summary>Constant: the scalar value. DropoutMask: the drop probability.</summary>
    public double Value;
    /// <summary>Reductions: the axes reduced, one bit each (bit i for axis i; a bound tensor has at most <see cref="TensorInfo.MaxRank"/>).</summary>
    public uint Axes;
    /// <summary>The node's whole attributes (what a single-op kernel's spec carries): an <see cref="AttrsTable"/> index.</summary>
    public int Attrs;

    public readonly bool Has(OpFlags flag) => (Flags & flag) == flag;
}

/// <summary>The scalar attributes of a <see cref="TensorOp"/> that fusion's patterns test.</summary>
[Flags]
public enum OpFlags : byte
{
    None = 0,
    /// <summary>MatMul: the first operand is read transposed.</summary>
    TransposeA = 1,
    /// <summary>MatMul: the second operand is read transposed.</summary>
    TransposeB = 2,
    /// <summary>Reductions: the reduced axes are kept with length 1.</summary>
    KeepDims = 4,
    /// <summary>Constant: a whole tensor's data rather than a scalar.</summary>
    HasData = 8,
    /// <summary>The op has a symbolic count (a constant holding a dimension's value, iota's length, …).</summary>
    HasCount = 16,
}

/// <summary>The tensor is fed from outside each step; <see cref="Name"/> is a <see cref="NameTable"/> id.</summary>
public struct InputTag
{
    public int Name;
}

/// <summary>The tensor is a state (a key/value cache) whose storage lives in the session's state store, kept between steps; <see cref="Name"/> is a <see cref="NameTable"/> id.</summary>
public struct StateTag
{
    public int Name;
}

/// <summary>The tensor is a trainable parameter whose storage lives in the session's parameter store; <see cref="Name"/> is a <see cref="NameTable"/> id.</summary>
public struct ParamTag
{
    public int Name;
}

/// <summary>The tensor is the gradient of these parameters (several when autodiff gives them the same node, as for a + b): names in the <see cref="NameTable"/>.</summary>
public struct GradOf
{
    public ListRange Parameters;
}

/// <summary>The tensor must be readable after the step under these names (model outputs, the loss, gradients): names in the <see cref="NameTable"/>.</summary>
public struct OutputTag
{
    public ListRange Names;
}

/// <summary>The tensor shares storage with another (reshape and detach move no data; store_rows writes its target in place).</summary>
public struct AliasOf
{
    public Entity Source;
}

/// <summary>A kernel entity: what it computes and which tensors it reads and writes.</summary>
public struct KernelInfo
{
    /// <summary>Index into the <see cref="SpecTable"/>.</summary>
    public int Spec;
    /// <summary>Tensor entities read, in the spec's operand order (in the <see cref="EntityList"/>).</summary>
    public ListRange Inputs;
    /// <summary>Tensor entities written (in the <see cref="EntityList"/>).</summary>
    public ListRange Outputs;
    /// <summary>Position in dispatch order.</summary>
    public int Order;
    /// <summary>The tensor entities of the graph nodes the kernel covers (one unless fused), in graph order (in the <see cref="EntityList"/>).</summary>
    public ListRange Members;
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

/// <summary>The backend a tensor's storage is allocated on, where it is not the compile's chosen backend's (added by <see cref="Compile.PlacementSystem"/>): a <see cref="BackendTable"/> index.</summary>
public struct Residence
{
    public int Backend;
}

/// <summary>Which backend runs a kernel (added by <see cref="Compile.PlacementSystem"/>): a <see cref="BackendTable"/> index.</summary>
public struct Placement
{
    public int Backend;
}

/// <summary>Where a tensor lives (added by <see cref="Compile.MemoryPlanningSystem"/>): a slot of the program's buffer pool or a session buffer.</summary>
public struct BufferSlot
{
    /// <summary>Index into the <see cref="BufferTable"/>.</summary>
    public int Buffer;
    /// <summary>Transient slot index, or -1 for buffers that outlive a step (parameters, inputs, outputs).</summary>
    public int Slot;
}

/// <summary>The compiled kernel (added by <see cref="Compile.CompileSystem"/>): a <see cref="KernelTable"/> index. It is launched on the buffers of its inputs, then its outputs.</summary>
public struct CompiledKernel
{
    public int Kernel;
}

/// <summary>
/// The buffers a kernel is launched on, bound once when it is compiled (added by <see cref="Compile.CompileSystem"/>):
/// its inputs' then its outputs' <see cref="BufferTable"/> indices, in the <see cref="BindingList"/>.
/// </summary>
public struct LaunchBinding
{
    public ListRange Buffers;
}

/// <summary>
/// The kernel is the first in dispatch order of its (backend, spec key): the one <see cref="Compile.CompileSystem"/>
/// compiles, and whose compiled kernel the others of its key share.
/// </summary>
public struct CompilesSpec
{
}

/// <summary>Accumulated wall time of a kernel, when profiling is on.</summary>
public struct Timing
{
    public double Milliseconds;
    public long Launches;
}

/// <summary>The tensors a tensor's op reads, in operand order (x · x lists x twice), in the <see cref="EdgeList"/> (added by <see cref="Compile.GraphLoadSystem"/>).</summary>
public struct Operands
{
    public ListRange Tensors;
}

/// <summary>The loaded tensors whose ops read this one, each once, in graph order, in the <see cref="EdgeList"/> (added by <see cref="Compile.GraphLoadSystem"/>).</summary>
public struct Readers
{
    public ListRange Tensors;
}

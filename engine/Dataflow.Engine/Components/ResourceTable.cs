using Dataflow.Engine.Backends;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;

namespace Dataflow.Engine.Components;

/// <summary>
/// Handles that a component cannot hold (components are unmanaged structs, so chunks stay plain
/// memory): a world resource keeps the objects and a component names one by its index. Tables only
/// grow while a graph compiles; the system that writes a table first creates it (see each table),
/// and a system that looks one up declares it in its access like a component type.
/// </summary>
public abstract class ResourceTable<T> where T : class
{
    private readonly List<T> _items = [];
    private readonly Dictionary<T, int> _indexOf = new(ReferenceEqualityComparer.Instance);

    public int Count => _items.Count;

    public T this[int index] => _items[index];

    /// <summary>The index of <paramref name="item"/>, adding it the first time (by reference: one backend, buffer or kernel is one entry).</summary>
    public int Intern(T item)
    {
        ArgumentNullException.ThrowIfNull(item);
        if (_indexOf.TryGetValue(item, out int index)) return index;
        _items.Add(item);
        return _indexOf[item] = _items.Count - 1;
    }
}

/// <summary>The loaded tensors' symbolic shapes (<see cref="SymbolicType.Shape"/>), one entry per shape object; made by <see cref="Compile.GraphLoadSystem"/>.</summary>
public sealed class ShapeTable : ResourceTable<Shape>;

/// <summary>The graph nodes' attributes (<see cref="TensorOp.Attrs"/>), one entry per attributes object (nodes often share one); made by <see cref="Compile.GraphLoadSystem"/>.</summary>
public sealed class AttrsTable : ResourceTable<OpAttrs>;

/// <summary>What each kernel computes (<see cref="KernelInfo.Spec"/>); made by <see cref="Compile.FusionSystem"/>, grown by placement's copy kernels.</summary>
public sealed class SpecTable : ResourceTable<KernelSpec>;

/// <summary>The backends kernels run on and tensors live on (<see cref="Placement"/>, <see cref="Residence"/>); made by <see cref="Compile.PlacementSystem"/>.</summary>
public sealed class BackendTable : ResourceTable<IBackend>;

/// <summary>The device buffers tensors live in (<see cref="BufferSlot"/>); made by <see cref="Compile.MemoryPlanningSystem"/>.</summary>
public sealed class BufferTable : ResourceTable<IDeviceBuffer>;

/// <summary>The compiled kernels (<see cref="CompiledKernel"/>), one per distinct spec and backend; made by <see cref="Compile.CompileSystem"/>.</summary>
public sealed class KernelTable : ResourceTable<ICompiledKernel>;

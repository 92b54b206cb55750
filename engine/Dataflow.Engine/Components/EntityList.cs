using System.Runtime.InteropServices;
using Dataflow.Engine.Ecs;

namespace Dataflow.Engine.Components;

/// <summary>
/// One growing list that many components hold runs of (<see cref="ListRange"/>), so a component with
/// a short list stays unmanaged. Each list is its own resource type, written by the system that owns
/// what it lists, so the schedule can tell who makes what. A span it hands out is valid until the next <see cref="Add(ReadOnlySpan{T})"/>.
/// </summary>
public abstract class SharedList<T> where T : unmanaged
{
    private readonly List<T> _items = [];

    public ReadOnlySpan<T> this[ListRange range] => CollectionsMarshal.AsSpan(_items).Slice(range.Start, range.Count);

    public ListRange Add(ReadOnlySpan<T> items)
    {
        int start = _items.Count;
        _items.AddRange(items);
        return new ListRange(start, items.Length);
    }

    public ListRange Add(IEnumerable<T> items)
    {
        int start = _items.Count;
        _items.AddRange(items);
        return new ListRange(start, _items.Count - start);
    }

    /// <summary>Replaces entry <paramref name="index"/> of <paramref name="range"/> (placement rewires a kernel to a copy).</summary>
    public void Set(ListRange range, int index, T item)
    {
        if ((uint)index >= (uint)range.Count) throw new ArgumentOutOfRangeException(nameof(index));
        _items[range.Start + index] = item;
    }
}

/// <summary>
/// The kernels' entity lists (<see cref="KernelInfo"/>'s inputs, outputs and covered tensors): made by
/// <see cref="Compile.FusionSystem"/>, which only writes it; <see cref="Compile.PlacementSystem"/> reads and rewires it.
/// </summary>
public sealed class EntityList : SharedList<Entity>;

/// <summary>The graph's edges between loaded tensors (<see cref="Operands"/>, <see cref="Readers"/>): made by <see cref="Compile.GraphLoadSystem"/>, read-only after it.</summary>
public sealed class EdgeList : SharedList<Entity>;

/// <summary>The buffers kernels are launched on (<see cref="LaunchBinding"/>), as <see cref="BufferTable"/> indices: made by <see cref="Compile.CompileSystem"/>.</summary>
public sealed class BindingList : SharedList<int>;

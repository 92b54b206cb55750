using System.Runtime.CompilerServices;

namespace Dataflow.Engine.Ecs;

/// <summary>
/// The process-wide registry of component types. Each type gets a small dense id the first time
/// it is used, so archetypes can be bit sets and column lookups array indexing, with no
/// reflection or dictionary on the hot path.
/// </summary>
internal static class ComponentType
{
    private static readonly object Gate = new();
    private static Info[] _infos = new Info[64];
    private static int _count;

    internal sealed record Info(Type Type, int Size, bool HasReferences, Func<int, Array> NewArray);

    internal static int Register(Info info)
    {
        lock (Gate)
        {
            if (_count == _infos.Length) Array.Resize(ref _infos, _count * 2);
            // Publish the slot before the count so readers never see a null entry below the count.
            _infos[_count] = info;
            return _count++;
        }
    }

    internal static Info Get(int id) => Volatile.Read(ref _infos)[id];

    internal static Type TypeOf(int id) => Get(id).Type;
}

/// <summary>The cached id of component type <typeparamref name="T"/>.</summary>
public static class ComponentType<T>
{
    public static readonly int Id = ComponentType.Register(new ComponentType.Info(
        typeof(T), Unsafe.SizeOf<T>(), RuntimeHelpers.IsReferenceOrContainsReferences<T>(), n => new T[n]));
}

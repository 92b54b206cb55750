namespace Dataflow.Engine.Ecs;

// Resources are the world's singletons (Bevy's Res<T>): what systems share that is not per entity —
// the graph being compiled, the step's inputs, the buffers a program owns. A system declares a
// resource type in its Access like a component type, so the schedule sees what systems exchange.
public sealed partial class World
{
    private readonly Dictionary<Type, object> _resources = new();

    /// <summary>Adds or replaces the world's <typeparamref name="T"/>. Refused while the world is iterated (systems may be reading resources concurrently).</summary>
    public void SetResource<T>(T resource) where T : class
    {
        ArgumentNullException.ThrowIfNull(resource);
        ThrowIfIterating("SetResource", typeof(T));
        AccessCheck.Write(this, typeof(T));
        _resources[typeof(T)] = resource;
    }

    /// <summary>The world's <typeparamref name="T"/>; an error when it has none.</summary>
    public T Resource<T>() where T : class
    {
        AccessCheck.Touch(this, typeof(T));
        return _resources.TryGetValue(typeof(T), out var resource)
            ? (T)resource
            : throw new InvalidOperationException($"the world has no {typeof(T).Name} resource (SetResource<{typeof(T).Name}> first).");
    }

    /// <summary>Removes the world's <typeparamref name="T"/>, if any (a per-step resource, once the step is done).</summary>
    public void RemoveResource<T>() where T : class
    {
        ThrowIfIterating("RemoveResource", typeof(T));
        AccessCheck.Write(this, typeof(T));
        _resources.Remove(typeof(T));
    }

    public bool HasResource<T>() where T : class => _resources.ContainsKey(typeof(T));
}

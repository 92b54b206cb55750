using Dataflow.Engine.Backends;

namespace Dataflow.Engine.Sessions;

/// <summary>
/// A session's state tensors (key/value caches) by name: device buffers allocated once, zeroed, and
/// kept across steps and across the graphs that name them (a prefill graph and a decode graph share
/// one cache). Never fed or fetched per step; graphs update them in place.
/// </summary>
public sealed class StateStore(IBackend backend) : IDisposable
{
    private readonly Dictionary<string, IDeviceBuffer> _buffers = new(StringComparer.Ordinal);

    public IEnumerable<string> Names => _buffers.Keys;

    /// <summary>The buffer of state <paramref name="name"/>, allocated zeroed on first use; every graph must agree on its size.</summary>
    public IDeviceBuffer Get(string name, long elements)
    {
        if (_buffers.TryGetValue(name, out var buffer))
        {
            if (buffer.Elements != elements)
                throw new InvalidOperationException($"state '{name}' holds {buffer.Elements} values but a graph wants {elements}");
            return buffer;
        }
        buffer = backend.Allocate(Math.Max(1, elements));
        backend.Upload(buffer, new float[buffer.Elements]);
        return _buffers[name] = buffer;
    }

    /// <summary>A copy of a state's values (for tests and debugging; waits for the device).</summary>
    public float[] Read(string name)
    {
        var buffer = _buffers.TryGetValue(name, out var b) ? b : throw new KeyNotFoundException($"no state '{name}'");
        var values = new float[buffer.Elements];
        backend.Wait();
        backend.Download(buffer, values);
        return values;
    }

    /// <summary>Sets every state back to zeros.</summary>
    public void Clear()
    {
        foreach (var buffer in _buffers.Values) backend.Upload(buffer, new float[buffer.Elements]);
    }

    public void Dispose()
    {
        foreach (var buffer in _buffers.Values) buffer.Dispose();
        _buffers.Clear();
    }
}

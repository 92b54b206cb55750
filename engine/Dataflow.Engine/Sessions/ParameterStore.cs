using Dataflow.Engine.Backends;
using Dataflow.Graph.Ir;

namespace Dataflow.Engine.Sessions;

/// <summary>A parameter's storage on the device: its value and the optimizer's state tensors.</summary>
public sealed class ParameterSlot
{
    public required string Name { get; init; }
    public required long[] Shape { get; init; }
    public required IDeviceBuffer Value { get; init; }
    public required ParamCategory Category { get; init; }

    /// <summary>False for a frozen parameter (a LoRA base): it has no gradient and no optimizer state.</summary>
    public bool Trainable { get; init; } = true;
    public IDeviceBuffer[] State { get; set; } = [];
    public long Elements => Shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>How the matrix-product kernels read the value: bf16 once an inference session converted it (<see cref="WeightStorage"/>).</summary>
    public WeightStorage Storage { get; internal set; }

    /// <summary>The bytes a kernel that reads the whole value reads: 2 an element as bf16, else 4.</summary>
    public long StoredBytes => Elements * (Storage == WeightStorage.Bf16 ? 2 : sizeof(float));
}

/// <summary>
/// Every parameter of a session by name, on the session's device. Compiled graphs (training,
/// evaluation, generation) share these buffers, so a step of one is seen by the others.
/// </summary>
public sealed class ParameterStore(IBackend backend) : IDisposable
{
    private readonly Dictionary<string, ParameterSlot> _slots = new(StringComparer.Ordinal);

    public IEnumerable<ParameterSlot> Slots => _slots.Values;

    public ParameterSlot Get(string name) =>
        _slots.TryGetValue(name, out var slot) ? slot : throw new KeyNotFoundException($"no parameter '{name}'");

    public bool Contains(string name) => _slots.ContainsKey(name);

    /// <summary>Creates the parameters of a graph that the store lacks, drawing initial values in declaration order.</summary>
    public void Declare(ComputeGraph graph, Func<double> uniform)
    {
        foreach (var parameter in graph.Parameters)
        {
            var shape = parameter.Node.Shape.ToConcrete();
            if (_slots.TryGetValue(parameter.Name, out var existing))
            {
                if (!existing.Shape.AsSpan().SequenceEqual(shape))
                    throw new InvalidOperationException($"parameter '{parameter.Name}' is [{string.Join(", ", existing.Shape)}] but the graph wants [{string.Join(", ", shape)}]");
                continue;
            }
            var values = ParameterInitializer.Create(parameter.Node.Attrs.Init!, shape, uniform);
            var buffer = backend.Allocate(values.Length);
            backend.Upload(buffer, values);
            _slots[parameter.Name] = new ParameterSlot { Name = parameter.Name, Shape = shape, Value = buffer, Category = parameter.Category, Trainable = parameter.Trainable };
        }
    }

    /// <summary>
    /// Allocates zeroed optimizer state for each trainable parameter (idempotent for the same count);
    /// frozen ones get none. With <paramref name="keeps"/> (ZeRO-1: this rank's shard), the parameters it
    /// rejects hold no state either.
    /// </summary>
    public void EnsureState(int tensorsPerParameter, Func<ParameterSlot, bool>? keeps = null)
    {
        foreach (var slot in _slots.Values)
        {
            int wanted = slot.Trainable && (keeps is null || keeps(slot)) ? tensorsPerParameter : 0;
            if (slot.State.Length == wanted) continue;
            foreach (var old in slot.State) old.Dispose();
            slot.State = NewState(slot.Elements, wanted);
        }
    }

    // Its own method: a lambda capturing the slot in the loop above would allocate its closure on
    // every pass, and a training step calls EnsureState once per step.
    private IDeviceBuffer[] NewState(long elements, int count)
    {
        var state = new IDeviceBuffer[count];
        for (int i = 0; i < count; i++) state[i] = backend.Allocate(elements);
        return state;
    }

    /// <summary>Bytes of optimizer state this process holds on the device: the buffers as allocated.</summary>
    public long StateBytes => _slots.Values.Sum(s => s.State.Sum(b => b.Elements)) * sizeof(float);

    public float[] Read(IDeviceBuffer buffer, long elements)
    {
        var values = new float[elements];
        backend.Wait();
        backend.Download(buffer, values);
        return values;
    }

    public void Write(IDeviceBuffer buffer, ReadOnlySpan<float> values) => backend.Upload(buffer, values);

    public void Dispose()
    {
        foreach (var slot in _slots.Values)
        {
            slot.Value.Dispose();
            foreach (var s in slot.State) s.Dispose();
        }
        _slots.Clear();
    }
}

using Dataflow.Engine.Components;
using Dataflow.Engine.Ecs;
using Dataflow.Graph.Tensors;

namespace Dataflow.Engine.Frame;

/// <summary>Copies the step's input values into the input tensors' buffers, checking each against its bound shape.</summary>
public sealed class FeedSystem : ISystem
{
    private static readonly QueryDescription Inputs = new QueryDescription().WithAll<InputTag, TensorInfo, BufferSlot>();

    public string Name => nameof(FeedSystem);

    public SystemAccess Access { get; } = SystemAccess.Of(reads: [typeof(FrameContext), typeof(InputTag), typeof(NameTable), typeof(TensorInfo), typeof(BufferSlot), typeof(BufferTable)], writes: [typeof(InputValues)]);

    // The inputs, read from the world once (they change only with a recompile), so a step allocates nothing.
    private (string Name, TensorInfo Info, Backends.IDeviceBuffer Buffer)[]? _inputs;

    public void Run(World world)
    {
        var context = world.Resource<FrameContext>();
        _inputs ??= InputsOf(world);
        foreach (var (name, info, buffer) in _inputs)
        {
            if (!context.Inputs.TryGetValue(name, out var values))
                throw new FeedException($"input '{name}' ({info.Desc}) was not given a value");
            if (values.Length != info.Elements)
                throw new FeedException($"input '{name}' expects {info.Desc} ({info.Elements} values) but got {values.Length}");
            switch (values)
            {
                case float[] f when info.DType == DType.F32: buffer.Owner.Upload(buffer, f); break;
                case int[] i when info.DType is DType.I32 or DType.Bf16x2: buffer.Owner.Upload(buffer, i); break;   // bf16x2: packed pairs
                default: throw new FeedException($"input '{name}' expects {info.DType.Name()} values but got {values.GetType().GetElementType()?.Name}");
            }
        }
    }

    private static (string, TensorInfo, Backends.IDeviceBuffer)[] InputsOf(World world)
    {
        var names = world.Resource<NameTable>();
        var buffers = world.Resource<BufferTable>();
        var inputs = new List<(string, TensorInfo, Backends.IDeviceBuffer)>();
        world.ForEach(in Inputs, (ref InputTag tag, ref TensorInfo info, ref BufferSlot slot) => inputs.Add((names[tag.Name], info, buffers[slot.Buffer])));
        return [.. inputs];
    }
}

/// <summary>A step was given inputs that do not fit the graph; the message names the input and shapes.</summary>
public sealed class FeedException(string message) : Exception(message);

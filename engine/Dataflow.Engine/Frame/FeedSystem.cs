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

    public void Run(World world)
    {
        var context = world.Resource<FrameContext>();
        var names = world.Resource<NameTable>();
        var buffers = world.Resource<BufferTable>();
        world.ForEach(in Inputs, (ref InputTag tag, ref TensorInfo info, ref BufferSlot slot) =>
        {
            var name = names[tag.Name];
            if (!context.Inputs.TryGetValue(name, out var values))
                throw new FeedException($"input '{name}' ({info.Desc}) was not given a value");
            if (values.Length != info.Elements)
                throw new FeedException($"input '{name}' expects {info.Desc} ({info.Elements} values) but got {values.Length}");
            var buffer = buffers[slot.Buffer];
            switch (values)
            {
                case float[] f when info.DType == DType.F32: buffer.Owner.Upload(buffer, f); break;
                case int[] i when info.DType == DType.I32: buffer.Owner.Upload(buffer, i); break;
                default: throw new FeedException($"input '{name}' expects {info.DType.Name()} values but got {values.GetType().GetElementType()?.Name}");
            }
        });
    }
}

/// <summary>A step was given inputs that do not fit the graph; the message names the input and shapes.</summary>
public sealed class FeedException(string message) : Exception(message);

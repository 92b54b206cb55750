using Dataflow.Engine.Components;
using Dataflow.Engine.Ecs;
using Dataflow.Graph.Tensors;

namespace Dataflow.Engine.Frame;

/// <summary>Copies the step's input values into the input tensors' buffers, checking each against its bound shape.</summary>
public sealed class FeedSystem : ISystem
{
    private static readonly QueryDescription Inputs = new QueryDescription().WithAll<InputTag, TensorInfo, BufferSlot>();

    public string Name => nameof(FeedSystem);

    public SystemAccess Access { get; } = SystemAccess.Of(reads: [typeof(FrameContext), typeof(InputTag), typeof(TensorInfo), typeof(BufferSlot)], writes: [typeof(InputValues)]);

    public void Run(World world)
    {
        var context = world.Resource<FrameContext>();
        world.ForEach(in Inputs, (ref InputTag tag, ref TensorInfo info, ref BufferSlot slot) =>
        {
            if (!context.Inputs.TryGetValue(tag.Name, out var values))
                throw new FeedException($"input '{tag.Name}' ({info.Desc}) was not given a value");
            if (values.Length != info.Desc.Elements)
                throw new FeedException($"input '{tag.Name}' expects {info.Desc} ({info.Desc.Elements} values) but got {values.Length}");
            var backend = slot.Buffer.Owner;
            switch (values)
            {
                case float[] f when info.Desc.DType == DType.F32: backend.Upload(slot.Buffer, f); break;
                case int[] i when info.Desc.DType == DType.I32: backend.Upload(slot.Buffer, i); break;
                default: throw new FeedException($"input '{tag.Name}' expects {info.Desc.DType.Name()} values but got {values.GetType().GetElementType()?.Name}");
            }
        });
    }
}

/// <summary>A step was given inputs that do not fit the graph; the message names the input and shapes.</summary>
public sealed class FeedException(string message) : Exception(message);

using Dataflow.Engine.Components;
using Dataflow.Engine.Ecs;

namespace Dataflow.Engine.Frame;

/// <summary>Waits for the device and reads the requested outputs back to the host.</summary>
public sealed class FetchSystem(Func<FrameContext> frame) : ISystem
{
    private static readonly QueryDescription Outputs = new QueryDescription().WithAll<OutputTag, TensorInfo, BufferSlot>();

    public string Name => nameof(FetchSystem);

    public SystemAccess Access { get; } = SystemAccess.Of(reads: [typeof(OutputTag), typeof(TensorInfo), typeof(BufferSlot)], writes: []);

    public void Run(World world)
    {
        var context = frame();
        world.ForEach(in Outputs, (ref OutputTag tag, ref TensorInfo info, ref BufferSlot slot) =>
        {
            var wanted = context.Fetch is null ? tag.Names : tag.Names.Where(context.Fetch.Contains).ToArray();
            if (wanted.Length == 0) return;
            slot.Buffer.Owner.Wait();
            var values = new float[info.Desc.Elements];
            if (info.Desc.DType == Graph.Tensors.DType.F32) slot.Buffer.Owner.Download(slot.Buffer, values);
            else
            {
                var ints = new int[values.Length];
                slot.Buffer.Owner.Download(slot.Buffer, ints);
                for (int i = 0; i < ints.Length; i++) values[i] = ints[i];
            }
            foreach (var name in wanted) context.Results[name] = values;
        });
    }
}

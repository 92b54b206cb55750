using Dataflow.Engine.Components;
using Dataflow.Engine.Ecs;

namespace Dataflow.Engine.Frame;

/// <summary>Waits for the device and reads the requested outputs back to the host.</summary>
public sealed class FetchSystem : ISystem
{
    private static readonly QueryDescription Outputs = new QueryDescription().WithAll<OutputTag, TensorInfo, BufferSlot>();

    public string Name => nameof(FetchSystem);

    public SystemAccess Access { get; } = SystemAccess.Of(reads: [typeof(FrameContext), typeof(OutputTag), typeof(TensorInfo), typeof(BufferSlot), typeof(TensorValues)], writes: [typeof(StepResults)]);

    public void Run(World world)
    {
        var context = world.Resource<FrameContext>();
        world.ForEach(in Outputs, (ref OutputTag tag, ref TensorInfo info, ref BufferSlot slot) =>
        {
            var wanted = context.Fetch is null ? tag.Names : Wanted(tag.Names, context.Fetch);
            if (wanted.Length == 0) return;
            slot.Buffer.Owner.Wait();
            var values = Destination(context, wanted, info.Desc.Elements);
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

    /// <summary>The output's names that were asked for; the names themselves when all were (the usual case, no allocation).</summary>
    private static string[] Wanted(string[] names, IReadOnlyCollection<string> fetch)
    {
        int count = 0;
        foreach (var name in names) if (fetch.Contains(name)) count++;
        return count == names.Length ? names : count == 0 ? [] : names.Where(fetch.Contains).ToArray();
    }

    /// <summary>The caller's array for one of <paramref name="wanted"/> when it has one of the right length, else a fresh one.</summary>
    private static float[] Destination(FrameContext context, string[] wanted, long elements)
    {
        if (context.FetchInto is { } into)
            foreach (var name in wanted)
                if (into.TryGetValue(name, out var array) && array.Length == elements) return array;
        return new float[elements];
    }
}

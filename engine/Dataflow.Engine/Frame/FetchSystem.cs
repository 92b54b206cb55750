using Dataflow.Engine.Components;
using Dataflow.Engine.Ecs;

namespace Dataflow.Engine.Frame;

/// <summary>Waits for the device and reads the requested outputs back to the host.</summary>
public sealed class FetchSystem : ISystem
{
    private static readonly QueryDescription Outputs = new QueryDescription().WithAll<OutputTag, TensorInfo, BufferSlot>();

    public string Name => nameof(FetchSystem);

    public SystemAccess Access { get; } = SystemAccess.Of(reads: [typeof(FrameContext), typeof(OutputTag), typeof(NameTable), typeof(TensorInfo), typeof(BufferSlot), typeof(BufferTable), typeof(TensorValues)], writes: [typeof(StepResults)]);

    // The outputs, read from the world once (they change only with a recompile), so a step allocates only what it returns.
    private (string[] Names, TensorInfo Info, Backends.IDeviceBuffer Buffer)[]? _outputs;

    public void Run(World world)
    {
        var context = world.Resource<FrameContext>();
        _outputs ??= OutputsOf(world);
        foreach (var (all, info, buffer) in _outputs)
        {
            var wanted = context.Fetch is null ? all : Wanted(all, context.Fetch);
            if (wanted.Length == 0) continue;
            buffer.Owner.Wait();
            var values = Destination(context, wanted, info.Elements);
            if (info.DType == Graph.Tensors.DType.F32) buffer.Owner.Download(buffer, values);
            else
            {
                var ints = new int[values.Length];
                buffer.Owner.Download(buffer, ints);
                for (int i = 0; i < ints.Length; i++) values[i] = ints[i];
            }
            foreach (var name in wanted) context.Results[name] = values;
        }
    }

    private static (string[], TensorInfo, Backends.IDeviceBuffer)[] OutputsOf(World world)
    {
        var names = world.Resource<NameTable>();
        var buffers = world.Resource<BufferTable>();
        var outputs = new List<(string[], TensorInfo, Backends.IDeviceBuffer)>();
        world.ForEach(in Outputs, (ref OutputTag tag, ref TensorInfo info, ref BufferSlot slot) => outputs.Add((names[tag.Names].ToArray(), info, buffers[slot.Buffer])));
        return [.. outputs];
    }

    /// <summary>The output's names that were asked for; the names themselves when all were (the usual case, no allocation).</summary>
    private static ReadOnlySpan<string> Wanted(ReadOnlySpan<string> names, IReadOnlyCollection<string> fetch)
    {
        int count = 0;
        foreach (var name in names) if (fetch.Contains(name)) count++;
        if (count == names.Length) return names;
        if (count == 0) return [];     // an output not asked for: the common case, allocating nothing
        var wanted = new string[count];
        count = 0;
        foreach (var name in names) if (fetch.Contains(name)) wanted[count++] = name;
        return wanted;
    }

    /// <summary>The caller's array for one of <paramref name="wanted"/> when it has one of the right length, else a fresh one.</summary>
    private static float[] Destination(FrameContext context, ReadOnlySpan<string> wanted, long elements)
    {
        if (context.FetchInto is { } into)
            foreach (var name in wanted)
                if (into.TryGetValue(name, out var array) && array.Length == elements) return array;
        return new float[elements];
    }
}

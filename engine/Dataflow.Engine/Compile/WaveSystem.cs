using Dataflow.Engine.Components;
using Dataflow.Engine.Ecs;

namespace Dataflow.Engine.Compile;

/// <summary>The buffers one kernel reads and writes (<see cref="BufferTable"/> indices), in dispatch order: what <see cref="WaveSystem.Assign"/> orders by.</summary>
public readonly record struct KernelBuffers(int[] Reads, int[] Writes);

/// <summary>
/// Groups the kernels into dispatch waves (<see cref="Wave"/>) from the buffers they are bound to. Two
/// kernels conflict when one writes a buffer the other reads or writes; a kernel goes in the first wave
/// after every earlier kernel it conflicts with. It reads the planned buffers (<see cref="LaunchBinding"/>),
/// not the tensor edges, because memory planning gives tensors whose lifetimes do not overlap one slot and
/// aliases their source's buffer: a kernel that writes a reused slot must still wait for the last reader of
/// the tensor that lived there before. So the schedule runs this after <see cref="CompileSystem"/>.
/// With <see cref="CompileOptions.Waves"/> off every kernel is a wave of its own, in dispatch order.
/// </summary>
public sealed class WaveSystem : ISystem, IDeferredChanges
{
    private static readonly QueryDescription Kernels = new QueryDescription().WithAll<KernelInfo, LaunchBinding>();

    public string Name => nameof(WaveSystem);

    public SystemAccess Access { get; } = SystemAccess.Of(
        reads: [typeof(CompileContext), typeof(SpecTable), typeof(EntityList), typeof(BindingList), typeof(KernelInfo), typeof(LaunchBinding), typeof(TensorInfo), typeof(CopyOf)],
        writes: [typeof(Wave)]);

    public CommandBuffer Commands { get; } = new();

    public void Run(World world)
    {
        var kernels = new List<(Entity Kernel, KernelInfo Info, LaunchBinding Binding)>();
        world.ForEachWithEntity(in Kernels, (Entity kernel, ref KernelInfo info, ref LaunchBinding binding) => kernels.Add((kernel, info, binding)));
        kernels.Sort((a, b) => a.Info.Order.CompareTo(b.Info.Order));

        var bindings = world.Resource<BindingList>();
        var lists = world.Resource<EntityList>();
        var specs = world.Resource<SpecTable>();
        var buffers = kernels.Select(k =>
        {
            // Launch buffers are the inputs' then the outputs'.
            var bound = bindings[k.Binding.Buffers];
            int inputs = k.Info.Inputs.Count;
            return new KernelBuffers(bound[..inputs].ToArray(), bound[inputs..].ToArray());
        }).ToList();
        int[] waves = world.Resource<CompileContext>().Options.Waves ? Assign(buffers) : [.. Enumerable.Range(0, kernels.Count)];

        for (int k = 0; k < kernels.Count; k++)
        {
            var info = kernels[k].Info;
            long elements = 0;
            foreach (var tensor in lists[info.Inputs]) elements += world.Shape(tensor).Elements;
            foreach (var tensor in lists[info.Outputs]) elements += world.Shape(tensor).Elements;
            Commands.Add(kernels[k].Kernel, new Wave { Index = waves[k], Work = KernelWork.Estimate(specs[info.Spec], elements) });
        }
    }

    /// <summary>
    /// Each kernel's wave, for kernels given in dispatch order: one more than the highest wave of an earlier
    /// kernel that wrote a buffer it reads or writes, or read a buffer it writes (0 when there is none).
    /// Running the waves in order, and a wave's kernels in any order, runs every conflicting pair in dispatch order.
    /// </summary>
    public static int[] Assign(IReadOnlyList<KernelBuffers> kernels)
    {
        var waves = new int[kernels.Count];
        // Per buffer: the wave of its last writer, and the highest wave that has read it since (-1: none).
        var lastWrite = new Dictionary<int, int>();
        var lastRead = new Dictionary<int, int>();
        for (int k = 0; k < kernels.Count; k++)
        {
            int wave = 0;
            foreach (int b in kernels[k].Reads) wave = Math.Max(wave, lastWrite.GetValueOrDefault(b, -1) + 1);
            foreach (int b in kernels[k].Writes)
                wave = Math.Max(wave, Math.Max(lastWrite.GetValueOrDefault(b, -1), lastRead.GetValueOrDefault(b, -1)) + 1);
            waves[k] = wave;
            foreach (int b in kernels[k].Reads) lastRead[b] = Math.Max(lastRead.GetValueOrDefault(b, -1), wave);
            foreach (int b in kernels[k].Writes) lastWrite[b] = wave;
        }
        return waves;
    }
}

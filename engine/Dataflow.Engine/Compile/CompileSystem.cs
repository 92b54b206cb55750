using Dataflow.Engine.Components;
using Dataflow.Engine.Ecs;

namespace Dataflow.Engine.Compile;

/// <summary>Compiles each placed kernel (backends cache by spec key) and binds its buffers in launch order.</summary>
public sealed class CompileSystem : ISystem, IDeferredChanges
{
    private static readonly QueryDescription Kernels = new QueryDescription().WithAll<KernelInfo, Placement>();

    public string Name => nameof(CompileSystem);

    public SystemAccess Access { get; } = SystemAccess.Of(
        reads: [typeof(KernelInfo), typeof(Placement), typeof(BufferSlot)],
        writes: [typeof(CompiledKernel), typeof(Timing)]);

    public CommandBuffer Commands { get; } = new();

    public void Run(World world)
    {
        var kernels = new List<(Entity Kernel, KernelInfo Info, Placement Placement)>();
        world.ForEachWithEntity(in Kernels, (Entity kernel, ref KernelInfo info, ref Placement placement) => kernels.Add((kernel, info, placement)));
        foreach (var (kernel, info, placement) in kernels.OrderBy(k => k.Info.Order))
        {
            var buffers = info.Inputs.Concat(info.Outputs).Select(t => world.Get<BufferSlot>(t).Buffer).ToArray();
            Commands.Add(kernel, new CompiledKernel { Kernel = placement.Backend.Compile(info.Spec), Buffers = buffers });
            Commands.Add(kernel, new Timing());
        }
    }
}

using Dataflow.Engine.Components;
using Dataflow.Engine.Ecs;

namespace Dataflow.Engine.Compile;

/// <summary>
/// Decides which backend runs each kernel, asking the backend per kernel (as ggml's
/// <c>supports_op</c>) so that an unsupported kernel is reported by name rather than failing at launch.
/// </summary>
public sealed class PlacementSystem : ISystem, IDeferredChanges
{
    private static readonly QueryDescription Kernels = new QueryDescription().WithAll<KernelInfo>();

    public string Name => nameof(PlacementSystem);

    public SystemAccess Access { get; } = SystemAccess.Of(reads: [typeof(CompileContext), typeof(KernelInfo)], writes: [typeof(Placement)]);

    public CommandBuffer Commands { get; } = new();

    public void Run(World world)
    {
        var backend = world.Resource<CompileContext>().Backend;
        var kernels = new List<(Entity Kernel, KernelInfo Info)>();
        world.ForEachWithEntity(in Kernels, (Entity kernel, ref KernelInfo info) => kernels.Add((kernel, info)));
        // In dispatch order, so the kernel named in an error is the first that cannot run.
        foreach (var (kernel, info) in kernels.OrderBy(k => k.Info.Order))
        {
            var support = backend.SupportsOp(info.Spec);
            if (!support.IsSupported)
                throw new CompileException($"backend {backend.Name} cannot run kernel {info.Spec.DisplayName}: {support.Reason}");
            Commands.Add(kernel, new Placement { Backend = backend });
        }
    }
}

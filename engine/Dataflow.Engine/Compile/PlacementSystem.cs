using Dataflow.Engine.Components;
using Dataflow.Engine.Ecs;

namespace Dataflow.Engine.Compile;

/// <summary>
/// Decides which backend runs each kernel, asking the backend per kernel (as ggml's
/// <c>supports_op</c>) so that an unsupported kernel is reported by name rather than failing at launch.
/// </summary>
public sealed class PlacementSystem(CompileContext context) : ISystem
{
    public string Name => nameof(PlacementSystem);

    public SystemAccess Access { get; } = SystemAccess.Of(reads: [typeof(KernelInfo)], writes: [typeof(Placement)]);

    public void Run(World world)
    {
        foreach (var kernel in context.Kernels)
        {
            var spec = world.Get<KernelInfo>(kernel).Spec;
            var support = context.Backend.SupportsOp(spec);
            if (!support.IsSupported)
                throw new CompileException($"backend {context.Backend.Name} cannot run kernel {spec.DisplayName}: {support.Reason}");
            world.Add(kernel, new Placement { Backend = context.Backend });
        }
    }
}

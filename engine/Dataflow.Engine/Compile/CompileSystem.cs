using Dataflow.Engine.Components;
using Dataflow.Engine.Ecs;

namespace Dataflow.Engine.Compile;

/// <summary>Compiles each placed kernel (backends cache by spec key) and binds its buffers in launch order.</summary>
public sealed class CompileSystem(CompileContext context) : ISystem
{
    public string Name => nameof(CompileSystem);

    public SystemAccess Access { get; } = SystemAccess.Of(
        reads: [typeof(KernelInfo), typeof(Placement), typeof(BufferSlot)],
        writes: [typeof(CompiledKernel)]);

    public void Run(World world)
    {
        foreach (var kernel in context.Kernels)
        {
            ref var info = ref world.Get<KernelInfo>(kernel);
            var backend = world.Get<Placement>(kernel).Backend;
            var buffers = info.Inputs.Concat(info.Outputs).Select(t => world.Get<BufferSlot>(t).Buffer).ToArray();
            world.Add(kernel, new CompiledKernel { Kernel = backend.Compile(info.Spec), Buffers = buffers });
        }
    }
}

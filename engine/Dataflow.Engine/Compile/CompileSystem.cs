using System.Runtime.ExceptionServices;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Components;
using Dataflow.Engine.Ecs;
using Dataflow.Engine.Jobs;

namespace Dataflow.Engine.Compile;

/// <summary>
/// Compiles each placed kernel and binds its buffers in launch order. Device backends generate and
/// build source per kernel (clBuildProgram, GLSL to SPIR-V and a pipeline), so the distinct specs
/// are compiled in parallel on the job system; backends must take concurrent <see cref="IBackend.Compile"/>
/// calls. A failure is reported for the first failing kernel in dispatch order, as a serial loop would.
/// Copy kernels (<see cref="TransferSpec"/>) are the engine's own and need no backend.
/// </summary>
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
        kernels.Sort((a, b) => a.Info.Order.CompareTo(b.Info.Order));

        // One compile per backend and spec key (a model's layers repeat the same specs), in dispatch order.
        var distinct = new List<(IBackend Backend, KernelSpec Spec)>();
        var indexOf = new Dictionary<(IBackend, string), int>();
        var compiledAt = new int[kernels.Count];
        for (int k = 0; k < kernels.Count; k++)
        {
            var (_, info, placement) = kernels[k];
            if (info.Spec is TransferSpec) { compiledAt[k] = -1; continue; }
            var key = (placement.Backend, info.Spec.Key);
            if (!indexOf.TryGetValue(key, out int at))
            {
                indexOf[key] = at = distinct.Count;
                distinct.Add((placement.Backend, info.Spec));
            }
            compiledAt[k] = at;
        }

        var compiled = new ICompiledKernel[distinct.Count];
        var failures = new ExceptionDispatchInfo?[distinct.Count];
        JobSystem.Shared.ParallelFor(distinct.Count, 1, (start, end) =>
        {
            for (int i = start; i < end; i++)
            {
                try { compiled[i] = distinct[i].Backend.Compile(distinct[i].Spec); }
                catch (Exception e) { failures[i] = ExceptionDispatchInfo.Capture(e); }
            }
        });
        foreach (var failure in failures) failure?.Throw();

        for (int k = 0; k < kernels.Count; k++)
        {
            var (kernel, info, _) = kernels[k];
            var buffers = info.Inputs.Concat(info.Outputs).Select(t => world.Get<BufferSlot>(t).Buffer).ToArray();
            var kernelCode = compiledAt[k] < 0 ? new TransferKernel((TransferSpec)info.Spec) : compiled[compiledAt[k]];
            Commands.Add(kernel, new CompiledKernel { Kernel = kernelCode, Buffers = buffers });
            Commands.Add(kernel, new Timing());
        }
    }
}

using System.Runtime.ExceptionServices;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Components;
using Dataflow.Engine.Ecs;

namespace Dataflow.Engine.Compile;

/// <summary>
/// Compiles the placed kernels and binds each to its buffers. Device backends generate and build
/// source per kernel (clBuildProgram, GLSL to SPIR-V and a pipeline), so compilation is a parallel
/// query over kernel entities; backends must take concurrent <see cref="IBackend.Compile"/> calls.
/// A model's layers repeat the same specs, so the first kernel in dispatch order of each (backend,
/// spec key) is marked <see cref="CompilesSpec"/> and only those compile; the others share its
/// <see cref="KernelTable"/> entry. A failure is reported for the first failing kernel in dispatch
/// order, as a serial loop would. Copy kernels (<see cref="TransferSpec"/>) are the engine's own and
/// need no backend. Binding reads the buffers memory planning gave the tensors
/// (<see cref="BufferSlot"/>), so the schedule runs this after planning.
/// </summary>
public sealed class CompileSystem : ISystem, IDeferredChanges
{
    private static readonly QueryDescription Kernels = new QueryDescription().WithAll<KernelInfo, Placement>();
    private static readonly QueryDescription Representatives = new QueryDescription().WithAll<CompilesSpec, KernelInfo, Placement>();

    public string Name => nameof(CompileSystem);

    public SystemAccess Access { get; } = SystemAccess.Of(
        reads: [typeof(SpecTable), typeof(BackendTable), typeof(EntityList), typeof(BufferSlot), typeof(KernelInfo), typeof(Placement)],
        writes: [typeof(KernelTable), typeof(BindingList), typeof(CompilesSpec), typeof(CompiledKernel), typeof(LaunchBinding), typeof(Timing)]);

    public CommandBuffer Commands { get; } = new();

    public void Run(World world)
    {
        var specs = world.Resource<SpecTable>();
        var backends = world.Resource<BackendTable>();
        var kernels = new List<(Entity Kernel, KernelInfo Info, Placement Placement)>();
        world.ForEachWithEntity(in Kernels, (Entity kernel, ref KernelInfo info, ref Placement placement) => kernels.Add((kernel, info, placement)));
        kernels.Sort((a, b) => a.Info.Order.CompareTo(b.Info.Order));

        // The representative of each (backend, spec key): its first kernel in dispatch order.
        var representativeOf = new Dictionary<(int Backend, string Key), int>();
        var compiledAt = new int[kernels.Count];
        var positionOf = new Dictionary<Entity, int>();
        for (int k = 0; k < kernels.Count; k++)
        {
            var (kernel, info, placement) = kernels[k];
            compiledAt[k] = -1;
            if (specs[info.Spec] is TransferSpec) continue;
            var key = (placement.Backend, specs[info.Spec].Key);
            if (!representativeOf.TryGetValue(key, out int first))
            {
                representativeOf[key] = first = k;
                positionOf[kernel] = k;
                // Alone in its batch (it reads what planning writes), so it may change the world directly.
                world.Add(kernel, new CompilesSpec());
            }
            compiledAt[k] = first;
        }

        var compiled = new ICompiledKernel?[kernels.Count];
        var failures = new ExceptionDispatchInfo?[kernels.Count];
        world.ParallelForEachWithEntity(in Representatives, (Entity kernel, ref CompilesSpec _, ref KernelInfo info, ref Placement placement) =>
        {
            int k = positionOf[kernel];
            try { compiled[k] = backends[placement.Backend].Compile(specs[info.Spec]); }
            catch (Exception e) { failures[k] = ExceptionDispatchInfo.Capture(e); }
        });
        foreach (var failure in failures) failure?.Throw();

        var table = new KernelTable();
        world.SetResource(table);
        var bindings = new BindingList();
        world.SetResource(bindings);
        var lists = world.Resource<EntityList>();
        var launchBuffers = new List<int>();
        for (int k = 0; k < kernels.Count; k++)
        {
            var (kernel, info, _) = kernels[k];
            int index = compiledAt[k] >= 0 ? table.Intern(compiled[compiledAt[k]]!) : table.Intern(new TransferKernel((TransferSpec)specs[info.Spec]));
            launchBuffers.Clear();
            foreach (var input in lists[info.Inputs]) launchBuffers.Add(world.Get<BufferSlot>(input).Buffer);
            foreach (var output in lists[info.Outputs]) launchBuffers.Add(world.Get<BufferSlot>(output).Buffer);
            Commands.Add(kernel, new CompiledKernel { Kernel = index });
            Commands.Add(kernel, new LaunchBinding { Buffers = bindings.Add(launchBuffers) });
            Commands.Add(kernel, new Timing());
        }
    }
}

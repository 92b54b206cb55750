using Dataflow.Engine.Backends;
using Dataflow.Engine.Components;
using Dataflow.Engine.Ecs;

namespace Dataflow.Engine.Frame;

/// <summary>One kernel launch as dispatch makes it every step, read from the world once.</summary>
internal readonly record struct KernelLaunch(ICompiledKernel Kernel, IDeviceBuffer[] Buffers, IBackend Backend, bool UsesSeed, ulong Salt, Entity Entity);

/// <summary>A run of <see cref="DispatchPlan.Launches"/>: launched one after the other, or, when <see cref="Together"/>, side by side on the job system.</summary>
internal readonly record struct LaunchGroup(int Start, int Count, bool Together);

/// <summary>
/// The launches of a compiled graph in the order dispatch makes them, cut into groups. When every kernel
/// runs on a backend that takes concurrent launches (<see cref="IConcurrentLaunches"/>: the CPU), the
/// order is by wave (<see cref="Wave"/>), and each wave is its big kernels one at a time (each splits its
/// own work over the cores), then its small kernels (<see cref="DispatchSystem.SmallWork"/>) as one group, each single-threaded on one worker.
/// Otherwise (a device backend, whose queue runs launches in order anyway) it is dispatch order, one at a time.
/// </summary>
internal sealed class DispatchPlan
{
    private static readonly QueryDescription Kernels = new QueryDescription().WithAll<KernelInfo, CompiledKernel, Placement, Wave>();

    public required KernelLaunch[] Launches { get; init; }
    public required LaunchGroup[] Groups { get; init; }

    public static DispatchPlan From(World world)
    {
        var kernels = new List<(Entity Kernel, KernelInfo Info, CompiledKernel Compiled, Placement Placement, Wave Wave)>();
        world.ForEachWithEntity(in Kernels, (Entity k, ref KernelInfo info, ref CompiledKernel compiled, ref Placement placement, ref Wave wave) =>
            kernels.Add((k, info, compiled, placement, wave)));
        var code = world.Resource<KernelTable>();
        var backends = world.Resource<BackendTable>();
        bool concurrent = kernels.All(k => backends[k.Placement.Backend] is IConcurrentLaunches && code[k.Compiled.Kernel] is not TransferKernel);
        bool Small((Entity, KernelInfo, CompiledKernel, Placement, Wave Wave) k) => concurrent && k.Wave.Work < DispatchSystem.SmallWork;

        // Within a wave: big kernels first, then the small ones, biggest first, so the last to start are the shortest.
        var ordered = concurrent
            ? kernels.OrderBy(k => k.Wave.Index).ThenBy(Small).ThenByDescending(k => Small(k) ? k.Wave.Work : 0).ThenBy(k => k.Info.Order).ToList()
            : kernels.OrderBy(k => k.Info.Order).ToList();

        var groups = new List<LaunchGroup>();
        for (int start = 0; start < ordered.Count;)
        {
            int end = start + 1;
            if (Small(ordered[start]))
                while (end < ordered.Count && ordered[end].Wave.Index == ordered[start].Wave.Index && Small(ordered[end])) end++;
            groups.Add(new LaunchGroup(start, end - start, Together: end - start > 1));
            start = end;
        }
        return new DispatchPlan
        {
            Launches = [.. ordered.Select(k => new KernelLaunch(
                code[k.Compiled.Kernel], world.LaunchBuffers(k.Kernel), backends[k.Placement.Backend], k.Info.UsesSeed, world.SeedSalt(k.Info), k.Kernel))],
            Groups = [.. groups],
        };
    }
}

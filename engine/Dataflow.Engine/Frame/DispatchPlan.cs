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
/// own work over the cores), then its small kernels (<see cref="DispatchSystem.SmallWork"/>) as one group,
/// each single-threaded on one worker.
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
        var ordered = new List<(Entity Kernel, KernelInfo Info, CompiledKernel Compiled, Placement Placement, Wave Wave)>();
        var groups = new List<LaunchGroup>();
        if (!concurrent)
        {
            ordered.AddRange(kernels.OrderBy(k => k.Info.Order));
            for (int i = 0; i < ordered.Count; i++) groups.Add(new LaunchGroup(i, 1, Together: false));
        }
        else
        {
            foreach (var wave in kernels.GroupBy(k => k.Wave.Index).OrderBy(w => w.Key))
            {
                // Big kernels run alone, each over every core; two small ones or more run side by side, biggest
                // first, so the last kernels the workers pick up are the shortest.
                var small = wave.Where(k => k.Wave.Work < DispatchSystem.SmallWork).OrderByDescending(k => k.Wave.Work).ThenBy(k => k.Info.Order).ToList();
                var alone = small.Count > 1 ? wave.Where(k => k.Wave.Work >= DispatchSystem.SmallWork) : wave;
                foreach (var k in alone.OrderBy(k => k.Info.Order))
                {
                    groups.Add(new LaunchGroup(ordered.Count, 1, Together: false));
                    ordered.Add(k);
                }
                if (small.Count < 2) continue;
                groups.Add(new LaunchGroup(ordered.Count, small.Count, Together: true));
                ordered.AddRange(small);
            }
        }
        return new DispatchPlan
        {
            Launches = [.. ordered.Select(k => new KernelLaunch(
                code[k.Compiled.Kernel], world.LaunchBuffers(k.Kernel), backends[k.Placement.Backend], k.Info.UsesSeed, world.SeedSalt(k.Info), k.Kernel))],
            Groups = [.. groups],
        };
    }
}

using System.Diagnostics;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Components;
using Dataflow.Engine.Ecs;
using Dataflow.Engine.Jobs;

namespace Dataflow.Engine.Frame;

/// <summary>
/// Launches every kernel, wave by wave (<see cref="DispatchPlan"/>): on the CPU a wave's small kernels run
/// side by side on the job system, one per worker, so they do not each pay a parallel loop. The plan is
/// read from the world once (it only changes when the graph is recompiled), so a step does no queries or
/// allocation, and the job system's workers are the only threads.
/// </summary>
public sealed class DispatchSystem : ISystem
{
    /// <summary>
    /// Below this many element operations (<see cref="Compile.KernelWork"/>) a kernel is small: it takes
    /// tens of microseconds on one core, about what waking another core for its parallel loop costs (and on
    /// a busy machine a wake-up can cost a scheduler time slice), so running it beside its wave's other
    /// small kernels, one per core, beats splitting each. The CPU backend's loops hand a core at least
    /// 32 Ki operations (its grain), so a small kernel's own loop would split it in at most a few ranges.
    /// </summary>
    public const long SmallWork = 1L << 17;

    private DispatchPlan? _plan;
    private readonly Action<int, int> _runGroup;
    // The step's seed and the group being run side by side, for _runGroup.
    private ulong _seed;
    private int _groupStart;

    public DispatchSystem() => _runGroup = RunGroup;

    public string Name => nameof(DispatchSystem);

    public SystemAccess Access { get; } = SystemAccess.Of(
        reads: [typeof(FrameContext), typeof(CompiledKernel), typeof(KernelInfo), typeof(Placement), typeof(Wave), typeof(KernelTable), typeof(BackendTable), typeof(EntityList), typeof(LaunchBinding), typeof(BindingList), typeof(BufferTable), typeof(TensorOp), typeof(InputValues), typeof(ParameterValues)],
        writes: [typeof(TensorValues), typeof(Timing)]);

    /// <summary>Measure each kernel's time (launches one at a time and waits after each, so only for profiling).</summary>
    public bool Profile { get; set; }

    public void Run(World world)
    {
        var plan = _plan ??= DispatchPlan.From(world);
        _seed = world.Resource<FrameContext>().Seed;
        if (Profile)
        {
            foreach (var launch in plan.Launches) Timed(world, launch);
            return;
        }
        foreach (var group in plan.Groups)
        {
            if (group.Together)
            {
                _groupStart = group.Start;
                JobSystem.Shared.ParallelFor(group.Count, 1, _runGroup);
                continue;
            }
            for (int i = group.Start; i < group.Start + group.Count; i++) Launch(plan.Launches[i]);
        }
    }

    private void RunGroup(int first, int last)
    {
        var launches = _plan!.Launches;
        for (int i = first; i < last; i++) Launch(launches[_groupStart + i]);
    }

    private void Launch(in KernelLaunch launch)
    {
        var parameters = launch.UsesSeed ? new LaunchParams(Mix(_seed, launch.Salt), null) : LaunchParams.None;
        TransferKernel.Launch(launch.Backend, launch.Kernel, launch.Buffers, in parameters);
    }

    private void Timed(World world, in KernelLaunch launch)
    {
        var start = Stopwatch.GetTimestamp();
        Launch(launch);
        launch.Backend.Wait();
        ref var timing = ref world.Get<Timing>(launch.Entity);
        timing.Milliseconds += Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        timing.Launches++;
    }

    internal static ulong Mix(ulong seed, ulong salt)
    {
        ulong z = seed + 0x9E3779B97F4A7C15UL * (salt + 1);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}

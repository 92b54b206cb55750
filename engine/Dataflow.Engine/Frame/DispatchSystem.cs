using System.Diagnostics;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Components;
using Dataflow.Engine.Ecs;

namespace Dataflow.Engine.Frame;

/// <summary>
/// Launches every kernel in dispatch order. The order and bound buffers are read from the world
/// once (they only change when the graph is recompiled), so a step does no queries or allocation.
/// </summary>
public sealed class DispatchSystem(IReadOnlyList<Entity> kernels, Func<FrameContext> frame) : ISystem
{
    private (ICompiledKernel Kernel, IDeviceBuffer[] Buffers, IBackend Backend, bool UsesSeed, ulong Salt, Entity Entity)[]? _launches;

    public string Name => nameof(DispatchSystem);

    public SystemAccess Access { get; } = SystemAccess.Of(reads: [typeof(CompiledKernel), typeof(KernelInfo), typeof(Placement)], writes: [typeof(Timing)]);

    /// <summary>Measure each kernel's time (waits after each launch, so only for profiling).</summary>
    public bool Profile { get; set; }

    public void Run(World world)
    {
        _launches ??= kernels.Select(k =>
        {
            var compiled = world.Get<CompiledKernel>(k);
            var info = world.Get<KernelInfo>(k);
            return (compiled.Kernel, compiled.Buffers, world.Get<Placement>(k).Backend, info.UsesSeed, (ulong)info.Nodes[^1].Id, k);
        }).ToArray();

        var seed = frame().Seed;
        foreach (var launch in _launches)
        {
            var parameters = launch.UsesSeed ? new LaunchParams(Mix(seed, launch.Salt), null) : LaunchParams.None;
            if (!Profile)
            {
                launch.Backend.Enqueue(launch.Kernel, launch.Buffers, in parameters);
                continue;
            }
            var start = Stopwatch.GetTimestamp();
            launch.Backend.Enqueue(launch.Kernel, launch.Buffers, in parameters);
            launch.Backend.Wait();
            ref var timing = ref world.Get<Timing>(launch.Entity);
            timing.Milliseconds += Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            timing.Launches++;
        }
    }

    internal static ulong Mix(ulong seed, ulong salt)
    {
        ulong z = seed + 0x9E3779B97F4A7C15UL * (salt + 1);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}

using System.Diagnostics;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Components;
using Dataflow.Engine.Ecs;

namespace Dataflow.Engine.Frame;

/// <summary>
/// Launches every kernel in dispatch order. The order and bound buffers are read from the world
/// once (they only change when the graph is recompiled), so a step does no queries or allocation.
/// </summary>
public sealed class DispatchSystem : ISystem
{
    private static readonly QueryDescription Kernels = new QueryDescription().WithAll<KernelInfo, CompiledKernel, Placement>();

    private (ICompiledKernel Kernel, IDeviceBuffer[] Buffers, IBackend Backend, bool UsesSeed, ulong Salt, Entity Entity)[]? _launches;

    public string Name => nameof(DispatchSystem);

    public SystemAccess Access { get; } = SystemAccess.Of(
        reads: [typeof(FrameContext), typeof(CompiledKernel), typeof(KernelInfo), typeof(Placement), typeof(KernelTable), typeof(BackendTable), typeof(EntityList), typeof(LaunchBinding), typeof(BindingList), typeof(BufferTable), typeof(TensorOp), typeof(InputValues)],
        // The kernels read the parameters as the previous step's optimizer left them, so the
        // optimizer (which reads the gradients they write) runs after them: no order by hand.
        readsPrevious: [typeof(ParameterValues)],
        writes: [typeof(TensorValues), typeof(Timing)]);

    /// <summary>Measure each kernel's time (waits after each launch, so only for profiling).</summary>
    public bool Profile { get; set; }

    public void Run(World world)
    {
        _launches ??= Launches(world);

        var seed = world.Resource<FrameContext>().Seed;
        foreach (var launch in _launches)
        {
            var parameters = launch.UsesSeed ? new LaunchParams(Mix(seed, launch.Salt), null) : LaunchParams.None;
            if (!Profile)
            {
                TransferKernel.Launch(launch.Backend, launch.Kernel, launch.Buffers, in parameters);
                continue;
            }
            var start = Stopwatch.GetTimestamp();
            TransferKernel.Launch(launch.Backend, launch.Kernel, launch.Buffers, in parameters);
            launch.Backend.Wait();
            ref var timing = ref world.Get<Timing>(launch.Entity);
            timing.Milliseconds += Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            timing.Launches++;
        }
    }

    private static (ICompiledKernel, IDeviceBuffer[], IBackend, bool, ulong, Entity)[] Launches(World world)
    {
        var kernels = new List<(Entity Kernel, KernelInfo Info, CompiledKernel Compiled, Placement Placement)>();
        world.ForEachWithEntity(in Kernels, (Entity k, ref KernelInfo info, ref CompiledKernel compiled, ref Placement placement) =>
            kernels.Add((k, info, compiled, placement)));
        var code = world.Resource<KernelTable>();
        var backends = world.Resource<BackendTable>();
        return [.. kernels.OrderBy(k => k.Info.Order).Select(k => (
            code[k.Compiled.Kernel], world.LaunchBuffers(k.Kernel), backends[k.Placement.Backend], k.Info.UsesSeed, world.SeedSalt(k.Info), k.Kernel))];
    }

    internal static ulong Mix(ulong seed, ulong salt)
    {
        ulong z = seed + 0x9E3779B97F4A7C15UL * (salt + 1);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}

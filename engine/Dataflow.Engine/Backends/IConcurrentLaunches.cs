namespace Dataflow.Engine.Backends;

/// <summary>
/// A backend whose <see cref="IBackend.Enqueue"/> runs the kernel to completion on the calling thread and
/// may be called from several job-system workers at once, for kernels that write no buffer another of them
/// touches (the CPU backend). A kernel's parallel loops started from a worker run on that worker alone, with
/// the same ranges, so a kernel computes the same bits either way. Dispatch runs a wave's small kernels side
/// by side on such a backend; every other backend gets its launches one at a time, in dispatch order.
/// </summary>
public interface IConcurrentLaunches;

namespace Dataflow.Engine.Components;

/// <summary>
/// The kernel's dispatch wave (added by <see cref="Compile.WaveSystem"/>): kernels of one wave touch no
/// buffer that another of them writes, so they may run in any order or side by side. Every kernel that
/// shares a written buffer with this one and comes earlier in dispatch order is in a lower wave.
/// </summary>
public struct Wave
{
    /// <summary>The wave's number, from 0; dispatch runs the waves in this order.</summary>
    public int Index;

    /// <summary>
    /// The kernel's estimated work in element operations (<see cref="Compile.KernelWork"/>): dispatch runs
    /// a kernel below <see cref="Frame.DispatchSystem.SmallWork"/> single-threaded beside its wave's other
    /// small kernels, and a bigger one alone with its own parallel loops.
    /// </summary>
    public long Work;
}

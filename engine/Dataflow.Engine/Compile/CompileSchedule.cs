using Dataflow.Engine.Ecs;

namespace Dataflow.Engine.Compile;

/// <summary>
/// The compile systems in one stage, with no order given: the schedule derives it from what each
/// declares reading and writing, and it comes out load → bind shapes → fuse → place → plan memory →
/// compile, one system per batch. Load writes the edges (<see cref="Components.EdgeList"/>) that
/// fusion reads; fusion makes the kernels (<see cref="Components.KernelInfo"/>, their
/// <see cref="Components.EntityList"/>, the <see cref="Components.SpecTable"/>) and only writes them,
/// placement reads and rewires them; memory planning reads what placement inserted (copy tensors and
/// kernels, <see cref="Components.Residence"/>), and compilation binds each kernel to the buffers
/// planning gave its tensors (<see cref="Components.BufferSlot"/>), so a plan that does not fit fails
/// before any kernel is built. Compilation runs in parallel over the kernel entities inside
/// <see cref="CompileSystem"/>; memory planning's walk is in dispatch order (lifetimes, best-fit
/// reuse) and stays serial.
/// </summary>
public static class CompileSchedule
{
    public const string Stage = "compile";

    /// <summary>The compile systems, in the order a reader would list them (the schedule does not depend on it).</summary>
    public static ISystem[] Systems() =>
        [new GraphLoadSystem(), new ShapeBindingSystem(), new FusionSystem(), new PlacementSystem(), new MemoryPlanningSystem(), new CompileSystem()];

    /// <summary>A fresh schedule (the systems keep per-run state); the world needs a <see cref="CompileContext"/> and a <see cref="ProgramBuffers"/> resource.</summary>
    public static Schedule Create()
    {
        var schedule = new Schedule("compile").AddStage(Stage);
        foreach (var system in Systems()) schedule.Add(system, Stage);
        return schedule;
    }
}

using Dataflow.Engine.Ecs;

namespace Dataflow.Engine.Compile;

/// <summary>
/// The compile systems in one stage, with no order given: the schedule derives it from what each
/// declares reading and writing: load → bind shapes → fuse → place → plan memory → compile.
/// Placement comes before memory planning because the copy tensors and kernels it inserts (where a
/// kernel falls back to the CPU) are planned like any other; compilation runs in parallel over the
/// kernels inside <see cref="CompileSystem"/>. Fusion and placement both read and grow the
/// <see cref="Components.EntityList"/> (placement rewires the kernels fusion made), which derives
/// an order each way; an explicit 'after' says placement comes second. Compilation needs nothing memory planning writes, but
/// runs after it: backends take concurrent compiles, not compiles concurrent with allocation and
/// upload (memory planning allocates and zeroes buffers), and a plan that does not fit should fail
/// before any kernel is built.
/// </summary>
public static class CompileSchedule
{
    public const string Stage = "compile";

    /// <summary>A fresh schedule (the systems keep per-run state); the world needs a <see cref="CompileContext"/> and a <see cref="ProgramBuffers"/> resource.</summary>
    public static Schedule Create() => new Schedule("compile").AddStage(Stage)
        .Add(new GraphLoadSystem(), Stage)
        .Add(new ShapeBindingSystem(), Stage)
        .Add(new FusionSystem(), Stage)
        .Add(new PlacementSystem(), Stage, after: nameof(FusionSystem))
        .Add(new MemoryPlanningSystem(), Stage)
        .Add(new CompileSystem(), Stage, after: nameof(MemoryPlanningSystem));
}

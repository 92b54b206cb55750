using Dataflow.Engine.Backends;
using Dataflow.Engine.Ecs;
using Dataflow.Engine.Sessions;

namespace Dataflow.Engine.Frame;

/// <summary>
/// The systems of one step, in one stage with no order given: the schedule derives feed → dispatch
/// → optimize → fetch from what each declares. Dispatch reads the parameters as the previous step's
/// optimizer left them (<see cref="SystemAccess.ReadsPrevious"/>) and the optimizer reads the
/// gradients dispatch writes, so dispatch comes first rather than the two forming a cycle.
/// </summary>
public static class FrameSchedule
{
    public const string Stage = "frame";

    /// <summary>A schedule whose world needs a <see cref="FrameContext"/> resource each step.</summary>
    public static Schedule Create(ParameterStore parameters, IBackend backend, DispatchSystem dispatch) => new Schedule("frame").AddStage(Stage)
        .Add(new FeedSystem(), Stage)
        .Add(dispatch, Stage)
        .Add(new OptimizeSystem(parameters, backend), Stage)
        .Add(new FetchSystem(), Stage);
}

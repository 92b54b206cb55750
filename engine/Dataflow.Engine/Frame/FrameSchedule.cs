using Dataflow.Engine.Backends;
using Dataflow.Engine.Ecs;
using Dataflow.Engine.Sessions;

namespace Dataflow.Engine.Frame;

/// <summary>
/// The systems of one step. Their declared access orders feed → dispatch → fetch; the one order
/// given by hand is the optimizer's after dispatch, because the declarations alone make a cycle
/// there: the kernels read the parameters the optimizer writes (last step's values) and the
/// optimizer reads the gradients the kernels write (this step's).
/// </summary>
public static class FrameSchedule
{
    public const string Stage = "frame";

    /// <summary>A schedule whose world needs a <see cref="FrameContext"/> resource each step.</summary>
    public static Schedule Create(ParameterStore parameters, IBackend backend, DispatchSystem dispatch) => new Schedule("frame").AddStage(Stage)
        .Add(new FeedSystem(), Stage)
        .Add(dispatch, Stage)
        .Add(new OptimizeSystem(parameters, backend), Stage, nameof(DispatchSystem))
        .Add(new FetchSystem(), Stage);
}

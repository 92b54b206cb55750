namespace Dataflow.Engine.Ecs;

/// <summary>
/// The ECS's own consistency checks: schedules refuse ambiguous orders, and every system run by a
/// schedule may touch only the component and resource types its <see cref="ISystem.Access"/>
/// declares (see <see cref="AccessCheck"/>). On in debug builds, in the test projects (they turn it
/// on at load) and when <c>DATAFLOW_ECS_CHECKS=1</c>; off in release runs, where each access then
/// costs one test of this flag.
/// </summary>
public static class EcsChecks
{
    /// <summary>Read on every component access, so a plain field rather than a property with logic.</summary>
    public static bool Enabled =
#if DEBUG
        true;
#else
        Environment.GetEnvironmentVariable("DATAFLOW_ECS_CHECKS") == "1";
#endif
}

namespace Dataflow.Engine.Ecs;

/// <summary>
/// One pass over the world. <see cref="Access"/> must name every component type the system reads
/// or writes: the schedule trusts it to decide what may run in parallel and to report ambiguous
/// orders. A system that may share a parallel batch must make structural changes through a
/// <see cref="CommandBuffer"/>; the world refuses direct ones while a batch of two or more runs.
/// </summary>
public interface ISystem
{
    string Name { get; }

    SystemAccess Access { get; }

    void Run(World world);
}

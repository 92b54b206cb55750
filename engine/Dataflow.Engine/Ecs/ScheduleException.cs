namespace Dataflow.Engine.Ecs;

/// <summary>A schedule that cannot run: a cycle, an unknown 'after', or (when strict) an ambiguous order.</summary>
public sealed class ScheduleException : Exception
{
    public ScheduleException(string message, IReadOnlyList<string>? systems = null) : base(message)
    {
        Systems = systems ?? [];
    }

    /// <summary>The systems involved, e.g. those in a cycle, in cycle order.</summary>
    public IReadOnlyList<string> Systems { get; }
}

using Dataflow.Engine.Ecs;

namespace Dataflow.Tests.Ecs;

internal record struct Position(float X, float Y);

internal record struct Velocity(float X, float Y);

internal record struct Health(int Value);

internal record struct Tag;

// Holds a managed reference, which components may.
internal record struct Name(string Value);

/// <summary>A system made of a name, an access declaration and a body.</summary>
internal sealed class TestSystem(string name, SystemAccess access, Action<World> body) : ISystem
{
    public string Name { get; } = name;

    public SystemAccess Access { get; } = access;

    public void Run(World world) => body(world);
}

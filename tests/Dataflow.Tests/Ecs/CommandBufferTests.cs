using Dataflow.Engine.Ecs;

namespace Dataflow.Tests.Ecs;

public class CommandBufferTests
{
    [Fact]
    public void CommandsAreDeferredUntilPlayback()
    {
        using var world = new World();
        var keep = world.Create(new Health(1));
        var doomed = world.Create(new Health(2));
        var buffer = new CommandBuffer();

        var created = buffer.Create();
        buffer.Add(created, new Position(7, 8));
        buffer.Add(created, new Name("new"));
        buffer.Add(keep, new Tag());
        buffer.Set(keep, new Health(10));
        buffer.Remove<Health>(keep);
        buffer.Add(keep, new Health(11));
        buffer.Destroy(doomed);

        // Nothing has happened yet.
        Assert.Equal(2, world.EntityCount);
        Assert.False(world.Has<Tag>(keep));
        Assert.True(world.IsAlive(doomed));
        Assert.False(world.IsAlive(created));
        Assert.Equal(8, buffer.Count);

        buffer.Playback(world);

        Assert.Equal(2, world.EntityCount);
        Assert.False(world.IsAlive(doomed));
        Assert.True(world.Has<Tag>(keep));
        Assert.Equal(11, world.Get<Health>(keep).Value);
        var made = Assert.Single(Matching(world, new QueryDescription().WithAll<Position, Name>()));
        Assert.Equal(new Position(7, 8), world.Get<Position>(made));
        Assert.Equal("new", world.Get<Name>(made).Value);
        Assert.Equal(0, buffer.Count);
    }

    [Fact]
    public void BufferRecordedDuringIterationAppliesAfterIt()
    {
        using var world = new World();
        for (int i = 0; i < 1000; i++) world.Create(new Health(i));
        var buffer = new CommandBuffer();

        world.ForEachWithEntity(new QueryDescription().WithAll<Health>(), (Entity e, ref Health h) =>
        {
            if (h.Value % 2 == 0) buffer.Destroy(e);
            else buffer.Add(e, new Tag());
            var spawned = buffer.Create();
            buffer.Add(spawned, new Velocity(h.Value, 0));
        });
        buffer.Playback(world);

        Assert.Equal(1500, world.EntityCount);
        Assert.Equal(500, world.CountEntities(new QueryDescription().WithAll<Health, Tag>()));
        Assert.Equal(0, world.CountEntities(new QueryDescription().WithAll<Health>().WithNone<Tag>()));
        Assert.Equal(1000, world.CountEntities(new QueryDescription().WithAll<Velocity>()));
    }

    [Fact]
    public void PlaceholdersAreRefusedOutsideTheirBuffer()
    {
        using var world = new World();
        var first = new CommandBuffer();
        var second = new CommandBuffer();
        var placeholder = first.Create();

        Assert.Throws<InvalidOperationException>(() => world.Add(placeholder, new Tag()));
        second.Add(placeholder, new Tag());
        Assert.Contains("different CommandBuffer", Assert.Throws<InvalidOperationException>(() => second.Playback(world)).Message);
        Assert.Equal(0, second.Count);
    }

    private static List<Entity> Matching(World world, QueryDescription description)
    {
        var found = new List<Entity>();
        world.ForEachWithEntity(description, (Entity e, ref Position _) => found.Add(e));
        return found;
    }
}

using Dataflow.Engine.Ecs;

namespace Dataflow.Tests.Ecs;

public class ParallelForEachTests
{
    [Fact]
    public void CoversEveryEntityExactlyOnce()
    {
        using var world = new World();
        const int n = 20_000;
        for (int i = 0; i < n; i++)
        {
            // Several archetypes, each several chunks.
            var e = world.Create(new Health(i));
            if (i % 3 == 0) world.Add(e, new Tag());
            if (i % 4 == 0) world.Add(e, new Position(i, 0));
        }
        var hits = new int[n];

        world.ParallelForEach(new QueryDescription(), (ref Health h) => Interlocked.Increment(ref hits[h.Value]));
        Assert.All(hits, count => Assert.Equal(1, count));

        var entities = new System.Collections.Concurrent.ConcurrentBag<Entity>();
        world.ParallelForEachWithEntity(new QueryDescription().WithNone<Tag>(), (Entity e, ref Health h) =>
        {
            h.Value = -h.Value;
            entities.Add(e);
        });
        Assert.Equal(world.CountEntities(new QueryDescription().WithNone<Tag>()), entities.Distinct().Count());
        Assert.Equal(entities.Count, entities.Distinct().Count());
        foreach (var e in entities) Assert.True(world.Get<Health>(e).Value <= 0);
    }

    [Fact]
    public void ExceptionFromTheBodyPropagatesAndReleasesTheLock()
    {
        using var world = new World();
        for (int i = 0; i < 5000; i++) world.Create(new Health(i));
        Assert.Throws<InvalidOperationException>(() =>
            world.ParallelForEach(new QueryDescription(), (ref Health h) => { if (h.Value == 4321) throw new InvalidOperationException("boom"); }));
        world.Create(); // structural changes allowed again
        Assert.Equal(5001, world.EntityCount);
    }
}

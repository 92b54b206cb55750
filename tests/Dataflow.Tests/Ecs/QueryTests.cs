using Dataflow.Engine.Ecs;

namespace Dataflow.Tests.Ecs;

public class QueryTests
{
    private static (World World, Entity P, Entity PV, Entity PH, Entity V, Entity PVT) Populate()
    {
        var world = new World();
        return (world,
            world.Create(new Position(1, 0)),
            world.Create(new Position(2, 0), new Velocity(1, 1)),
            world.Create(new Position(3, 0), new Health(3)),
            world.Create(new Velocity(4, 4)),
            world.Create(new Position(5, 0), new Velocity(2, 2), new Tag()));
    }

    /// <summary>The entities the query yields, by id; fails if one comes twice.</summary>
    private static List<Entity> Matching(World world, QueryDescription description)
    {
        var found = new HashSet<Entity>();
        foreach (var chunk in world.Query(description).GetChunks())
            foreach (var e in chunk.Entities) Assert.True(found.Add(e));
        return found.OrderBy(e => e.Id).ToList();
    }

    [Fact]
    public void AllAnyNoneFiltersSelectExactlyTheRightEntities()
    {
        var (world, p, pv, ph, v, pvt) = Populate();
        using var _ = world;

        Assert.Equal([p, pv, ph, pvt], Matching(world, new QueryDescription().WithAll<Position>()));
        Assert.Equal([pv, pvt], Matching(world, new QueryDescription().WithAll<Position, Velocity>()));
        Assert.Equal([pv], Matching(world, new QueryDescription().WithAll<Position, Velocity>().WithNone<Tag>()));
        Assert.Equal([v], Matching(world, new QueryDescription().WithAny<Health, Velocity>().WithNone<Tag, Position>()));
        Assert.Equal([pv, ph, v], Matching(world, new QueryDescription().WithAny<Health>().WithAny<Velocity>().WithNone<Tag>()));
        Assert.Equal([pv, ph, v, pvt], Matching(world, new QueryDescription().WithAny<Health, Velocity>()));
        Assert.Equal([p, pv, ph, v, pvt], Matching(world, new QueryDescription()));
        Assert.Equal(2, world.CountEntities(new QueryDescription().WithAll<Velocity>().WithNone<Tag>()));
    }

    [Fact]
    public void EqualDescriptionsShareAQueryThatSeesLaterArchetypes()
    {
        using var world = new World();
        var q = world.Query(new QueryDescription().WithAll<Health>());
        Assert.Same(q, world.Query(new QueryDescription().WithAll<Health>()));
        Assert.Equal(0, q.Count);
        world.Create(new Health(1), new Name("a"));
        world.Create(new Health(2));
        Assert.Equal(2, q.Count);
    }

    [Fact]
    public void ChunkSpansLineUpWithEntities()
    {
        using var world = new World();
        var expected = new Dictionary<Entity, int>();
        for (int i = 0; i < 2000; i++) expected[world.Create(new Health(i), new Position(i, 0))] = i;

        int seen = 0;
        foreach (var chunk in world.Query(new QueryDescription().WithAll<Health>()).GetChunks())
        {
            Assert.True(chunk.Has<Position>());
            Assert.False(chunk.Has<Velocity>());
            var health = chunk.GetSpan<Health>();
            var position = chunk.GetSpan<Position>();
            Assert.Equal(chunk.Count, health.Length);
            for (int i = 0; i < chunk.Count; i++)
            {
                Assert.Equal(expected[chunk.Entities[i]], health[i].Value);
                Assert.Equal(health[i].Value, (int)position[i].X);
                health[i].Value *= 2; // spans write through to storage
            }
            seen += chunk.Count;
            Assert.Throws<InvalidOperationException>(() => chunk.GetSpan<Velocity>());
        }
        Assert.Equal(2000, seen);
        foreach (var (e, i) in expected) Assert.Equal(2 * i, world.Get<Health>(e).Value);
    }

    [Fact]
    public void ForEachVisitsEveryMatchAndWritesThrough()
    {
        var (world, p, pv, ph, v, pvt) = Populate();
        using var _ = world;

        world.ForEach(new QueryDescription().WithAll<Position, Velocity>(), (ref Position pos, ref Velocity vel) => pos.X += vel.X);
        Assert.Equal(1, world.Get<Position>(p).X);
        Assert.Equal(3, world.Get<Position>(pv).X);
        Assert.Equal(7, world.Get<Position>(pvt).X);

        var visited = new List<Entity>();
        // The component types of ForEach join the description's WithAll even when not listed.
        world.ForEachWithEntity(new QueryDescription().WithNone<Tag>(), (Entity e, ref Velocity vel) => visited.Add(e));
        Assert.Equal([pv, v], visited.OrderBy(e => e.Id));

        int sum = 0;
        world.ForEach(new QueryDescription(), (ref Position a, ref Velocity b, ref Tag c, ref Position d) => sum++);
        Assert.Equal(1, sum);
    }

    [Fact]
    public void StructuralChangeDuringIterationThrows()
    {
        using var world = new World();
        var e = world.Create(new Health(1));
        var all = new QueryDescription().WithAll<Health>();

        var ex = Assert.Throws<InvalidOperationException>(() => world.ForEach(all, (ref Health h) => world.Add(e, new Tag())));
        Assert.Contains("CommandBuffer", ex.Message);
        Assert.Throws<InvalidOperationException>(() => world.ForEach(all, (ref Health h) => world.Create()));
        Assert.Throws<InvalidOperationException>(() => world.ForEach(all, (ref Health h) => world.Destroy(e)));
        Assert.Throws<InvalidOperationException>(() =>
        {
            foreach (var chunk in world.Query(all).GetChunks()) world.Remove<Health>(e);
        });
        Assert.Throws<InvalidOperationException>(() => world.ParallelForEach(all, (ref Health h) => world.Create(new Tag())));

        // Value writes are fine inside, and the lock is released afterwards, even after a throw.
        world.ForEach(all, (ref Health h) => world.Set(e, new Health(5)));
        world.Add(e, new Tag());
        Assert.Equal(5, world.Get<Health>(e).Value);
        Assert.True(world.Has<Tag>(e));
    }

    [Fact]
    public void ForEachDoesNotAllocate()
    {
        using var world = new World();
        for (int i = 0; i < 3000; i++) world.Create(new Position(i, 0), new Velocity(1, 1));
        var description = new QueryDescription().WithAll<Position, Velocity>();
        ForEachRef<Position, Velocity> move = static (ref Position p, ref Velocity v) => p.X += v.X;
        world.ForEach(description, move); // warm up: query cache, JIT

        // The runtime may allocate once on this thread while it moves the loop to a higher JIT tier;
        // a real per-iteration allocation shows in every round, so one clean round of three suffices.
        long allocated = long.MaxValue;
        for (int round = 0; round < 3 && allocated != 0; round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int k = 0; k < 10; k++) world.ForEach(description, move);
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        }
        Assert.Equal(0, allocated);
        Assert.True(world.Get<Position>(new Entity(0, 1)).X is 11 or 21 or 31);
    }
}

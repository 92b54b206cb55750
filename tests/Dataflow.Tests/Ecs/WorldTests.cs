using Dataflow.Engine.Ecs;

namespace Dataflow.Tests.Ecs;

public class WorldTests
{
    [Fact]
    public void CreateWithComponentsThenGetReturnsThem()
    {
        using var world = new World();
        var e = world.Create(new Position(1, 2), new Velocity(3, 4), new Health(5), new Name("n"));

        Assert.True(world.IsAlive(e));
        Assert.Equal(new Position(1, 2), world.Get<Position>(e));
        Assert.Equal(new Velocity(3, 4), world.Get<Velocity>(e));
        Assert.Equal(new Health(5), world.Get<Health>(e));
        Assert.Equal("n", world.Get<Name>(e).Value);
        Assert.False(world.Has<Tag>(e));
        Assert.Equal(1, world.EntityCount);
    }

    [Fact]
    public void GetReturnsAReferenceAndSetOverwrites()
    {
        using var world = new World();
        var e = world.Create(new Health(1));
        world.Get<Health>(e).Value = 7;
        Assert.Equal(7, world.Get<Health>(e).Value);
        world.Set(e, new Health(9));
        Assert.True(world.TryGet<Health>(e, out var h));
        Assert.Equal(9, h.Value);
        Assert.False(world.TryGet<Position>(e, out _));
    }

    [Fact]
    public void AddAndRemoveMoveArchetypesAndKeepOtherValues()
    {
        using var world = new World();
        var other = world.Create(new Position(10, 10), new Health(10));
        var e = world.Create(new Position(1, 2), new Health(3));
        var archetypeBefore = world.Archetypes.Single(a => a.EntityCount == 2);

        world.Add(e, new Velocity(5, 6));
        Assert.Equal(1, archetypeBefore.EntityCount);
        Assert.Equal(new Position(1, 2), world.Get<Position>(e));
        Assert.Equal(new Health(3), world.Get<Health>(e));
        Assert.Equal(new Velocity(5, 6), world.Get<Velocity>(e));

        world.Remove<Position>(e);
        Assert.False(world.Has<Position>(e));
        Assert.Equal(new Health(3), world.Get<Health>(e));
        Assert.Equal(new Velocity(5, 6), world.Get<Velocity>(e));
        Assert.Equal(new[] { typeof(Health), typeof(Velocity) }, world.Archetypes.Single(a => a.Types.Count == 2 && a.Has<Velocity>()).Types.OrderBy(t => t.Name));

        // The entity that stayed behind is untouched.
        Assert.Equal(new Position(10, 10), world.Get<Position>(other));
        Assert.Equal(new Health(10), world.Get<Health>(other));
    }

    [Fact]
    public void EmptyEntityCanGainComponents()
    {
        using var world = new World();
        var e = world.Create();
        world.Add(e, new Tag());
        world.Add(e, new Health(4));
        Assert.True(world.Has<Tag>(e));
        Assert.Equal(4, world.Get<Health>(e).Value);
    }

    [Fact]
    public void MisuseThrowsClearErrors()
    {
        using var world = new World();
        var e = world.Create(new Health(1));

        var missing = Assert.Throws<InvalidOperationException>(() => world.Get<Position>(e));
        Assert.Contains("no Position component", missing.Message);
        Assert.Contains("Health", missing.Message);
        Assert.Throws<InvalidOperationException>(() => world.Set(e, new Position()));
        Assert.Throws<InvalidOperationException>(() => world.Remove<Position>(e));
        Assert.Contains("already has", Assert.Throws<InvalidOperationException>(() => world.Add(e, new Health(2))).Message);
        Assert.Throws<ArgumentException>(() => world.Create(new Health(1), new Health(2)));
        Assert.Throws<InvalidOperationException>(() => world.Get<Health>(Entity.Null));
    }

    [Fact]
    public void ManyEntitiesSpanSeveralChunksAndSurviveSwapRemoval()
    {
        using var world = new World();
        const int n = 5000;
        var entities = new Entity[n];
        for (int i = 0; i < n; i++) entities[i] = world.Create(new Health(i), new Position(i, -i));

        var archetype = world.Archetypes.Single(a => a.EntityCount == n);
        Assert.True(archetype.ChunkCount >= 3, $"expected several chunks, got {archetype.ChunkCount}");
        Assert.Equal((n + archetype.ChunkCapacity - 1) / archetype.ChunkCapacity, archetype.ChunkCount);

        // Destroy every third entity; swap removal moves others, whose handles must still work.
        for (int i = 0; i < n; i += 3) world.Destroy(entities[i]);
        for (int i = 0; i < n; i++)
        {
            if (i % 3 == 0)
            {
                Assert.False(world.IsAlive(entities[i]));
                continue;
            }
            Assert.Equal(i, world.Get<Health>(entities[i]).Value);
            Assert.Equal(new Position(i, -i), world.Get<Position>(entities[i]));
        }
        int alive = n - (n + 2) / 3;
        Assert.Equal(alive, world.EntityCount);
        Assert.Equal(alive, archetype.EntityCount);
        Assert.Equal((alive + archetype.ChunkCapacity - 1) / archetype.ChunkCapacity, archetype.ChunkCount);
    }

    [Fact]
    public void DestroyedIdIsReusedAndOldHandleIsStale()
    {
        using var world = new World();
        var old = world.Create(new Health(1));
        world.Destroy(old);
        Assert.False(world.IsAlive(old));
        Assert.Equal(0, world.EntityCount);

        var reused = world.Create(new Health(2));
        Assert.Equal(old.Id, reused.Id);
        Assert.NotEqual(old.Version, reused.Version);
        Assert.True(world.IsAlive(reused));
        Assert.False(world.IsAlive(old));
        Assert.Contains("not alive", Assert.Throws<InvalidOperationException>(() => world.Get<Health>(old)).Message);
        Assert.False(world.Has<Health>(old));
        Assert.Throws<InvalidOperationException>(() => world.Destroy(old));
        Assert.Equal(2, world.Get<Health>(reused).Value);
    }

    [Fact]
    public void NullEntityIsNeverAlive()
    {
        using var world = new World();
        var first = world.Create();
        Assert.Equal(0, first.Id);
        Assert.False(world.IsAlive(Entity.Null));
        Assert.True(Entity.Null.IsNull);
    }
}

using Dataflow.Engine.Ecs;

namespace Dataflow.Tests.Ecs;

/// <summary>Turns the ECS checks off for one test, so it runs alone: a schedule made meanwhile elsewhere would not be strict, nor its systems checked.</summary>
[CollectionDefinition(nameof(AccessCheckTests), DisableParallelization = true)]
public sealed class AccessCheckCollection;

/// <summary>The world holds every scheduled system to its declared access (tests run with <see cref="EcsChecks"/> on).</summary>
[Collection(nameof(AccessCheckTests))]
public class AccessCheckTests
{
    private static Schedule One(string name, SystemAccess access, Action<World> body) =>
        new Schedule("s").Add(new TestSystem(name, access, body));

    [Fact]
    public void AnUndeclaredWriteIsCaughtNamingTheSystemAndTheType()
    {
        using var world = new World();
        var e = world.Create(new Position(1, 2), new Health(3));
        var sneaky = One("Sneaky", SystemAccess.Of(reads: [typeof(Position), typeof(Health)]), w => w.Set(e, new Health(0)));

        var ex = Assert.Throws<UndeclaredAccessException>(() => sneaky.Run(world));
        Assert.Equal("Sneaky", ex.System);
        Assert.Equal(typeof(Health), ex.Type);
        Assert.Contains("Sneaky writes Health, which its Access does not declare", ex.Message);
        Assert.Equal(3, world.Get<Health>(e).Value); // refused before the write
    }

    [Theory]
    [InlineData("add")]
    [InlineData("remove")]
    [InlineData("create")]
    [InlineData("deferred")]
    public void StructuralChangesAreWritesOfTheirComponentType(string how)
    {
        using var world = new World();
        var e = world.Create(new Position(1, 2), new Health(3));
        var buffer = new CommandBuffer();
        Action<World> body = how switch
        {
            "add" => w => w.Add(e, new Velocity(1, 1)),
            "remove" => w => w.Remove<Health>(e),
            "create" => w => w.Create(new Velocity(0, 0)),
            _ => _ => buffer.Add(e, new Velocity(1, 1)),
        };
        var readsOnly = SystemAccess.Of(reads: [typeof(Position), typeof(Health), typeof(Velocity)]);
        var system = how == "deferred" ? new DeferringSystem("Sneaky", readsOnly, body, buffer) : (ISystem)new TestSystem("Sneaky", readsOnly, body);

        // Deferred changes are played back by the schedule as the system that recorded them.
        Assert.Throws<UndeclaredAccessException>(() => new Schedule("s").Add(system).Run(world));
    }

    [Fact]
    public void AnUndeclaredReadIsCaughtAndADeclaredOneIsRecorded()
    {
        using var world = new World();
        var e = world.Create(new Position(1, 2), new Health(3));
        var peeking = One("Peeking", SystemAccess.Of(reads: [typeof(Position)]), w => _ = w.Get<Health>(e));
        Assert.Contains("Peeking reads or writes Health", Assert.Throws<UndeclaredAccessException>(() => peeking.Run(world)).Message);

        var honest = One("Honest", SystemAccess.Of(reads: [typeof(Position)], writes: [typeof(Health)]), w =>
        {
            w.ForEach(new QueryDescription().WithAll<Position>(), (ref Health h) => h.Value++);
            w.Set(e, new Health(10));
        });
        honest.Run(world);
        var (touched, written) = honest.LastAccess["Honest"];
        Assert.Equal([typeof(Health)], touched);
        Assert.Equal([typeof(Health)], written);
    }

    [Fact]
    public void FiltersAndPresenceTestsAreNotAccessesAndResourcesAre()
    {
        using var world = new World();
        var e = world.Create(new Position(1, 2), new Health(3));
        world.SetResource(new List<int> { 7 });
        int seen = 0;
        var filtering = One("Filtering", SystemAccess.Of(reads: [typeof(Position)]), w =>
        {
            w.ForEach(new QueryDescription().WithAll<Health>().WithNone<Tag>(), (ref Position p) => seen++);
            if (w.Has<Health>(e)) seen++;
        });
        filtering.Run(world);
        Assert.Equal(2, seen);

        var resourceful = One("Resourceful", SystemAccess.Of(reads: [typeof(Position)]), w => _ = w.Resource<List<int>>());
        Assert.Contains("List", Assert.Throws<UndeclaredAccessException>(() => resourceful.Run(world)).Message);
        One("Declared", SystemAccess.Of(reads: [typeof(List<int>)]), w => seen = w.Resource<List<int>>()[0]).Run(world);
        Assert.Equal(7, seen);
    }

    [Fact]
    public void OutsideASystemAndWithChecksOffNothingIsChecked()
    {
        using var world = new World();
        var e = world.Create(new Health(3));
        world.Set(e, new Health(4)); // no system is running

        var sneaky = One("Sneaky", SystemAccess.None, w => w.Set(e, new Health(5)));
        EcsChecks.Enabled = false;
        try { sneaky.Run(world); }
        finally { EcsChecks.Enabled = true; }
        Assert.Equal(5, world.Get<Health>(e).Value);
    }

    private sealed class DeferringSystem(string name, SystemAccess access, Action<World> body, CommandBuffer commands) : ISystem, IDeferredChanges
    {
        public string Name { get; } = name;
        public SystemAccess Access { get; } = access;
        public CommandBuffer Commands { get; } = commands;
        public void Run(World world) => body(world);
    }
}

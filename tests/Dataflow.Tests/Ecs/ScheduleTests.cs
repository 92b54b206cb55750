using Dataflow.Engine.Ecs;

namespace Dataflow.Tests.Ecs;

public class ScheduleTests
{
    private static TestSystem Logging(string name, List<string> log, SystemAccess? access = null) =>
        new(name, access ?? SystemAccess.None, _ => { lock (log) log.Add(name); });

    [Fact]
    public void AfterOrdersSystemsWithinAStageAndStagesRunInOrder()
    {
        var log = new List<string>();
        var schedule = new Schedule("frame")
            .AddStage("compile")
            .AddStage("run")
            .Add(Logging("C", log), "compile", "B")
            .Add(Logging("B", log), "compile", "A")
            .Add(Logging("A", log), "compile")
            .Add(Logging("D", log), "run", "C"); // an earlier stage's system: already satisfied
        using var world = new World();

        schedule.Run(world, parallel: false);
        Assert.Equal(["A", "B", "C", "D"], log);

        log.Clear();
        schedule.Run(world, parallel: true);
        Assert.Equal(["A", "B", "C", "D"], log);
        Assert.Equal(["A", "B", "C", "D"], schedule.LastTimings.Select(t => t.System));
        Assert.All(schedule.LastTimings, t => Assert.True(t.Elapsed >= TimeSpan.Zero));
    }

    [Fact]
    public void SingleThreadedOrderIsStable()
    {
        var log = new List<string>();
        var schedule = new Schedule("s").Add(Logging("X", log)).Add(Logging("Y", log)).Add(Logging("Z", log), after: "Y").Add(Logging("W", log));
        using var world = new World();
        schedule.Run(world, parallel: false);
        schedule.Run(world, parallel: false);
        Assert.Equal(["X", "Y", "Z", "W", "X", "Y", "Z", "W"], log);
    }

    [Fact]
    public void CycleIsReportedNamingItsSystems()
    {
        var log = new List<string>();
        var schedule = new Schedule("s")
            .Add(Logging("Fusion", log), after: "Placement")
            .Add(Logging("Placement", log), after: "Memory")
            .Add(Logging("Memory", log), after: "Fusion")
            .Add(Logging("Unrelated", log));
        using var world = new World();

        var ex = Assert.Throws<ScheduleException>(() => schedule.Run(world));
        Assert.Contains("cycle", ex.Message);
        foreach (var name in new[] { "Fusion", "Placement", "Memory" }) Assert.Contains(name, ex.Message);
        Assert.DoesNotContain("Unrelated", ex.Message);
        Assert.Equal(["Fusion", "Memory", "Placement"], ex.Systems.Order());
        Assert.Empty(log);
    }

    [Fact]
    public void UnknownAfterNameIsAnError()
    {
        var schedule = new Schedule("s").Add(new TestSystem("A", SystemAccess.None, _ => { }), after: "Nope");
        using var world = new World();
        Assert.Contains("Nope", Assert.Throws<ScheduleException>(() => schedule.Run(world)).Message);
    }

    [Fact]
    public void TwoUnorderedWritersAreAmbiguousAndOrderingResolvesIt()
    {
        var write = SystemAccess.Of(writes: [typeof(Health)]);
        var unordered = new Schedule("s")
            .Add(new TestSystem("FooSystem", write, _ => { }))
            .Add(new TestSystem("BarSystem", write, _ => { }));
        Assert.Equal(["FooSystem and BarSystem both write Health with no order between them"], unordered.Ambiguities);

        var ordered = new Schedule("s")
            .Add(new TestSystem("FooSystem", write, _ => { }))
            .Add(new TestSystem("Middle", SystemAccess.None, _ => { }), after: "FooSystem")
            .Add(new TestSystem("BarSystem", write, _ => { }), after: "Middle"); // ordered transitively
        Assert.Empty(ordered.Ambiguities);
    }

    [Fact]
    public void ReaderRunsAfterTheWriterOfWhatItReadsWhateverOrderTheyAreAddedIn()
    {
        var log = new List<string>();
        var schedule = new Schedule("s")
            .Add(Logging("Reader", log, SystemAccess.Of(reads: [typeof(Position)])))
            .Add(Logging("OtherReader", log, SystemAccess.Of(reads: [typeof(Position), typeof(Health)])))
            .Add(Logging("Writer", log, SystemAccess.Of(writes: [typeof(Position)])));
        using var world = new World();

        Assert.Empty(schedule.Ambiguities);
        schedule.Run(world, parallel: false);
        Assert.Equal(["Writer", "Reader", "OtherReader"], log);
        // The two readers share nothing that is written: one parallel batch.
        Assert.Equal([["Writer"], ["Reader", "OtherReader"]], schedule.Batches);
    }

    [Fact]
    public void IndependentSystemsShareABatchAndBothExecutorsAgree()
    {
        var log = new List<string>();
        var schedule = new Schedule("s")
            .Add(Logging("Load", log, SystemAccess.Of(writes: [typeof(Position)])))
            .Add(Logging("Place", log, SystemAccess.Of(reads: [typeof(Position)], writes: [typeof(Velocity)])))
            .Add(Logging("Plan", log, SystemAccess.Of(reads: [typeof(Position)], writes: [typeof(Health)])))
            .Add(Logging("Compile", log, SystemAccess.Of(reads: [typeof(Velocity), typeof(Health)], writes: [typeof(Name)])));
        using var world = new World();

        Assert.Equal([["Load"], ["Place", "Plan"], ["Compile"]], schedule.Batches);
        schedule.Run(world, parallel: true);
        Assert.Equal("Load", log[0]);
        Assert.Equal("Compile", log[3]);
        Assert.Equal(["Place", "Plan"], log.Skip(1).Take(2).Order());
    }

    [Fact]
    public void SystemsThatEachReadWhatTheOtherWritesAreACycleUntilAnAfterBreaksIt()
    {
        var kernels = SystemAccess.Of(reads: [typeof(Health)], writes: [typeof(Position)]);
        var optimizer = SystemAccess.Of(reads: [typeof(Position)], writes: [typeof(Health)]);
        var cyclic = new Schedule("s").Add(new TestSystem("Dispatch", kernels, _ => { })).Add(new TestSystem("Optimize", optimizer, _ => { }));
        using var world = new World();

        var ex = Assert.Throws<ScheduleException>(() => cyclic.Run(world));
        Assert.Contains("cycle", ex.Message);
        Assert.Contains("Optimize reads Position, which Dispatch writes", ex.Message);
        Assert.Contains("Dispatch reads Health, which Optimize writes", ex.Message);

        var log = new List<string>();
        var settled = new Schedule("s")
            .Add(Logging("Optimize", log, optimizer), after: "Dispatch")
            .Add(Logging("Dispatch", log, kernels));
        settled.Run(world);
        Assert.Equal(["Dispatch", "Optimize"], log);
    }

    [Fact]
    public void SystemsInDifferentStagesAreNeverAmbiguous()
    {
        var write = SystemAccess.Of(writes: [typeof(Health)]);
        var schedule = new Schedule("s").AddStage("a").AddStage("b")
            .Add(new TestSystem("A", write, _ => { }), "a")
            .Add(new TestSystem("B", write, _ => { }), "b");
        Assert.Empty(schedule.Ambiguities);
    }

    [Fact]
    public void StrictAmbiguityRefusesToRun()
    {
        bool ran = false;
        var write = SystemAccess.Of(writes: [typeof(Health)]);
        var schedule = new Schedule("s")
            .Add(new TestSystem("FooSystem", write, _ => ran = true))
            .Add(new TestSystem("BarSystem", write, _ => ran = true));
        using var world = new World();

        Assert.True(schedule.StrictAmbiguity); // tests run with EcsChecks on
        schedule.StrictAmbiguity = false;
        schedule.Run(world); // allowed when not strict
        Assert.True(ran);

        ran = false;
        schedule.StrictAmbiguity = true;
        var ex = Assert.Throws<ScheduleException>(() => schedule.Run(world));
        Assert.Contains("FooSystem and BarSystem both write Health", ex.Message);
        Assert.False(ran);
    }

    [Fact]
    public void DuplicateNamesAndUnknownStagesAreRefused()
    {
        var schedule = new Schedule("s").AddStage("a").Add(new TestSystem("A", SystemAccess.None, _ => { }));
        Assert.Throws<ArgumentException>(() => schedule.Add(new TestSystem("A", SystemAccess.None, _ => { })));
        Assert.Throws<ArgumentException>(() => schedule.Add(new TestSystem("B", SystemAccess.None, _ => { }), "missing"));
        Assert.Throws<ArgumentException>(() => schedule.AddStage("a"));
    }

    [Fact]
    public void ParallelRunMatchesSingleThreadedRun()
    {
        static World MakeWorld()
        {
            var world = new World();
            for (int i = 0; i < 3000; i++)
            {
                var e = world.Create(new Position(i, 0), new Velocity(1, 2), new Health(i % 7));
                if (i % 5 == 0) world.Add(e, new Tag());
            }
            return world;
        }

        static Schedule MakeSchedule(List<string> ran)
        {
            void Mark(string name) { lock (ran) ran.Add(name); }
            var all = new QueryDescription();
            return new Schedule("frame")
                .AddStage("update")
                .AddStage("late")
                .Add(new TestSystem("Move", SystemAccess.Of(reads: [typeof(Velocity)], writes: [typeof(Position)]), w =>
                {
                    Mark("Move");
                    w.ParallelForEach(all, (ref Position p, ref Velocity v) => { p.X += v.X; p.Y += v.Y; });
                }), "update")
                .Add(new TestSystem("Accelerate", SystemAccess.Of(writes: [typeof(Velocity)]), w =>
                {
                    Mark("Accelerate");
                    w.ForEach(all, (ref Velocity v) => v.X *= 2);
                }), "update", "Move")
                .Add(new TestSystem("Heal", SystemAccess.Of(writes: [typeof(Health)]), w =>
                {
                    Mark("Heal");
                    w.ForEach(new QueryDescription().WithNone<Tag>(), (ref Health h) => h.Value += 3);
                }), "update")
                .Add(new TestSystem("Damage", SystemAccess.Of(reads: [typeof(Position)], writes: [typeof(Health)]), w =>
                {
                    Mark("Damage");
                    w.ForEach(all, (ref Health h, ref Position p) => h.Value = h.Value * 2 - (int)p.X % 3);
                }), "update", "Heal", "Move")
                .Add(new TestSystem("Spawn", SystemAccess.Of(reads: [typeof(Health)], writes: [typeof(Name)]), w =>
                {
                    Mark("Spawn");
                    var buffer = new CommandBuffer();
                    w.ForEachWithEntity(new QueryDescription().WithAll<Tag>().WithNone<Name>(), (Entity e, ref Health h) =>
                    {
                        if (h.Value > 10) buffer.Add(e, new Name("hot"));
                    });
                    buffer.Playback(w); // alone in its batch, so playback is allowed here
                }), "late");
        }

        var sequentialRan = new List<string>();
        var parallelRan = new List<string>();
        using var sequential = MakeWorld();
        using var parallel = MakeWorld();
        var sequentialSchedule = MakeSchedule(sequentialRan);
        var parallelSchedule = MakeSchedule(parallelRan);
        sequentialSchedule.StrictAmbiguity = parallelSchedule.StrictAmbiguity = true;

        for (int frame = 0; frame < 3; frame++)
        {
            sequentialSchedule.Run(sequential, parallel: false);
            parallelSchedule.Run(parallel, parallel: true);
        }

        Assert.Equal(15, parallelRan.Count);
        Assert.Equal(sequentialRan.Order(), parallelRan.Order());
        Assert.Equal(5, parallelSchedule.LastTimings.Count);
        Assert.Equal(Snapshot(sequential), Snapshot(parallel));
        Assert.True(sequential.CountEntities(new QueryDescription().WithAll<Name>()) > 0);
    }

    [Fact]
    public void DirectStructuralChangeInAConcurrentBatchIsRefused()
    {
        var schedule = new Schedule("s")
            .Add(new TestSystem("Creator", SystemAccess.Of(writes: [typeof(Tag)]), w => w.Create(new Tag())))
            .Add(new TestSystem("Other", SystemAccess.Of(writes: [typeof(Health)]), _ => { }));
        using var world = new World();

        schedule.Run(world, parallel: false);
        Assert.Equal(1, world.EntityCount);
        Assert.Contains("CommandBuffer", Assert.Throws<InvalidOperationException>(() => schedule.Run(world, parallel: true)).Message);
    }

    private static List<string> Snapshot(World world)
    {
        var rows = new List<string>();
        world.ForEachWithEntity(new QueryDescription(), (Entity e, ref Position p, ref Velocity v, ref Health h) =>
            rows.Add($"{e} {p} {v} {h} {(world.TryGet<Name>(e, out var n) ? n.Value : "-")}"));
        rows.Sort(StringComparer.Ordinal);
        return rows;
    }
}

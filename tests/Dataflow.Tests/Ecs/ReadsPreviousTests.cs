using Dataflow.Engine.Ecs;

namespace Dataflow.Tests.Ecs;

/// <summary>
/// A system that reads a type as the previous run of its stage left it (state a loop carries from one
/// frame to the next) runs before that type's other writers: an order derived from the declaration.
/// </summary>
public class ReadsPreviousTests
{
    [Fact]
    public void A_previous_run_reader_runs_before_the_writer_and_sees_last_frames_value()
    {
        using var world = new World();
        var e = world.Create(new Health(0));
        var seen = new List<int>();
        var schedule = new Schedule("loop")
            .Add(new TestSystem("Bump", SystemAccess.Of(writes: [typeof(Health)]), w => w.Get<Health>(e).Value++))
            .Add(new TestSystem("Carry", SystemAccess.Of(readsPrevious: [typeof(Health)]), w => seen.Add(w.Get<Health>(e).Value)));

        Assert.Equal([["Carry"], ["Bump"]], schedule.Batches);   // added second, ordered first; not one batch (they conflict)
        Assert.Empty(schedule.Ambiguities);
        for (int frame = 0; frame < 3; frame++) schedule.Run(world);
        Assert.Equal([0, 1, 2], seen);
    }

    [Fact]
    public void It_combines_with_reader_after_writer_orders()
    {
        // Source -> (Velocity) -> Integrate; Integrate reads Position from the previous frame, so Move, which writes it, comes after.
        var schedule = new Schedule("s")
            .Add(new TestSystem("Move", SystemAccess.Of(reads: [typeof(Velocity)], writes: [typeof(Position)]), _ => { }))
            .Add(new TestSystem("Integrate", SystemAccess.Of(reads: [typeof(Velocity)], readsPrevious: [typeof(Position)], writes: [typeof(Health)]), _ => { }))
            .Add(new TestSystem("Source", SystemAccess.Of(writes: [typeof(Velocity)]), _ => { }));
        Assert.Equal([["Source"], ["Integrate"], ["Move"]], schedule.Batches);
    }

    [Fact]
    public void A_contradiction_with_a_same_frame_read_is_a_cycle_that_says_why()
    {
        // Early reads Health as last frame left it (so before Late, which writes it) and reads Position as Late writes it this frame (so after).
        var schedule = new Schedule("s")
            .Add(new TestSystem("Early", SystemAccess.Of(reads: [typeof(Position)], readsPrevious: [typeof(Health)]), _ => { }))
            .Add(new TestSystem("Late", SystemAccess.Of(writes: [typeof(Position), typeof(Health)]), _ => { }));
        using var world = new World();

        var ex = Assert.Throws<ScheduleException>(() => schedule.Run(world));
        Assert.Contains("cycle", ex.Message);
        Assert.Contains("Early reads Health as the previous frame left it, and Late writes it", ex.Message);
        Assert.Contains("Early reads Position, which Late writes", ex.Message);
    }

    [Fact]
    public void The_access_check_counts_it_as_a_read_only()
    {
        using var world = new World();
        var e = world.Create(new Health(3));
        var access = SystemAccess.Of(readsPrevious: [typeof(Health)]);
        new Schedule("s").Add(new TestSystem("Reader", access, w => Assert.Equal(3, w.Get<Health>(e).Value))).Run(world);

        var writer = new Schedule("s").Add(new TestSystem("Writer", access, w => w.Set(e, new Health(4))));
        var ex = Assert.Throws<UndeclaredAccessException>(() => writer.Run(world));
        Assert.Equal(typeof(Health), ex.Type);
        Assert.Equal(3, world.Get<Health>(e).Value);
    }
}

using Dataflow.Training.Tasks;

namespace Dataflow.Tests.Seq2Seq;

public sealed class HeldOutSetTests
{
    private static string Key(TransductionSample s) => TransductionVocabulary.Format(s.Source);

    [Fact]
    public void The_held_out_set_is_fixed_unique_and_covers_every_length()
    {
        var task = new ReverseTask();
        var a = HeldOutSet.Create(task, perLength: 16);
        var b = HeldOutSet.Create(new ReverseTask(), perLength: 16);
        Assert.Equal(a.Samples.Select(Key), b.Samples.Select(Key));
        Assert.Equal(a.Samples.Count, a.Samples.Select(Key).Distinct().Count());
        Assert.Equal(Enumerable.Range(5, 16), a.ByLength().Select(g => g.Length));
        Assert.All(a.ByLength(), g => Assert.Equal(16, g.Samples.Count));
    }

    [Fact]
    public void The_training_stream_never_yields_a_held_out_source()
    {
        // Three-digit sources: 1000 strings, 300 of them held out, so the stream meets them all the time.
        var task = new SortTask(3, 3);
        var heldOut = HeldOutSet.Create(task, perLength: 300);
        Assert.Equal(300, heldOut.Samples.Count);
        var held = heldOut.Samples.Select(Key).ToHashSet();
        var stream = new TransductionStream(task, heldOut, seed: 1);
        var seen = Enumerable.Range(0, 100).SelectMany(_ => stream.NextBatch(50)).ToList();
        Assert.DoesNotContain(seen, s => held.Contains(Key(s)));
        Assert.True(stream.Skipped > 500, $"only {stream.Skipped} held-out sources were met and skipped");
        // ... and the rest of the space is still sampled.
        Assert.True(seen.Select(Key).Distinct().Count() > 650);
    }

    [Fact]
    public void Training_batches_share_one_source_length_and_resume_from_their_state()
    {
        var task = new ReverseTask();
        var heldOut = HeldOutSet.Create(task, perLength: 4);
        var stream = new TransductionStream(task, heldOut, seed: 5);
        for (int i = 0; i < 20; i++) stream.NextBatch(8);
        var state = stream.GetState();
        var next = stream.NextBatch(8);
        Assert.Single(next.Select(s => s.Source.Length).Distinct());

        var resumed = new TransductionStream(task, heldOut, seed: 99);
        resumed.SetState(state);
        Assert.Equal(next.Select(Key), resumed.NextBatch(8).Select(Key));
    }

    [Fact]
    public void Batches_shift_the_target_right_and_pad_with_pad()
    {
        var samples = new[]
        {
            new TransductionSample([3, 4], [4, 3]),
            new TransductionSample([5, 6], [5]),
        };
        var batch = Seq2SeqBatch.From(samples);
        Assert.Equal((2, 2, 3), (batch.Count, batch.SourceLength, batch.TargetLength));
        Assert.Equal([3, 4, 5, 6], batch.Source);
        Assert.Equal([1, 4, 3, 1, 5, 0], batch.TargetIn);
        Assert.Equal([4, 3, 2, 5, 2, 0], batch.TargetOut);
        Assert.Throws<ArgumentException>(() => Seq2SeqBatch.From([new([3], [3]), new([3, 4], [3, 4])]));
    }
}

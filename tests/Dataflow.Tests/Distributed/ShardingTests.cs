using Dataflow.Backends.Cpu;
using Dataflow.Engine;
using Dataflow.Engine.Frame;
using Dataflow.Engine.Optim;
using Dataflow.Engine.Sessions;
using Dataflow.Tests.Dsl;
using Dataflow.Training;

namespace Dataflow.Tests.Distributed;

/// <summary>In one process: each rank's rows of a global batch, and ZeRO-1's cut of the parameters and its gather.</summary>
public sealed class ShardingTests
{
    /// <summary>A global batch of 4 rows whose every value is its row's number plus the step times 10.</summary>
    private sealed class CountingSource : IBatchSource
    {
        private readonly Dictionary<string, long> _bindings = new() { ["B"] = 4 };
        private int _step;

        public TrainingBatch Next()
        {
            _step++;
            var image = new float[4 * 784];
            for (int i = 0; i < image.Length; i++) image[i] = i / 784 + 10 * _step;
            return new TrainingBatch(_bindings, new Dictionary<string, Array> { ["image"] = image, ["label"] = new[] { 0, 1, 2, 3 } }, 4);
        }

        public byte[] GetState() => [(byte)_step];
        public void SetState(ReadOnlySpan<byte> state) => _step = state[0];
    }

    [Fact]
    public void Each_rank_gets_its_rows_of_every_input_and_one_bindings_instance()
    {
        var graph = DslTestSupport.LoadModel("mlp.dfg", "small").Graph;
        var shard = new ShardedBatches(new CountingSource(), graph, rank: 1, size: 2);

        var first = shard.Next();
        var second = shard.Next();

        Assert.Equal(2, first.Bindings["B"]);
        Assert.Same(first.Bindings, second.Bindings);          // the step compiles once
        Assert.Equal([2, 3], (int[])second.Inputs["label"]);
        var image = (float[])second.Inputs["image"];
        Assert.Equal(2 * 784, image.Length);
        Assert.Equal(22f, image[0]);
        Assert.Equal(23f, image[^1]);
        Assert.Equal(4, second.Examples);                      // reports count the global batch
    }

    [Fact]
    public void A_global_batch_the_ranks_do_not_divide_is_refused_naming_both()
    {
        var graph = DslTestSupport.LoadModel("mlp.dfg", "small").Graph;
        var shard = new ShardedBatches(new CountingSource(), graph, rank: 0, size: 3);
        var error = Assert.Throws<ConfigurationException>(() => shard.Next());
        Assert.Contains("--batch 4 does not split evenly over 3 ranks", error.Message);
    }

    /// <summary>Rank <c>Rank</c> of <c>Size</c>, whose peers all contribute -1 to every gather.</summary>
    private sealed class LoneRank(int rank, int size) : IOptimizerSharding
    {
        public int Rank => rank;
        public int Size => size;

        public void Broadcast(Span<float> data, int root)
        {
            if (root != rank) data.Fill(-1);
        }

        public void Gather(ReadOnlySpan<float> send, Span<float> receive, ReadOnlySpan<int> counts, int root)
        {
            if (rank != root) return;
            int offset = 0;
            for (int r = 0; r < size; r++)
            {
                if (r == rank) send.CopyTo(receive[offset..]);
                else receive.Slice(offset, counts[r]).Fill(-1);
                offset += counts[r];
            }
        }
    }

    [Fact]
    public void Zero_1_cuts_the_parameters_in_name_order_into_runs_of_about_equal_size_and_gathers_the_others()
    {
        using var session = new Session(new CpuBackend(), seed: 2);
        session.DeclareParameters(DslTestSupport.LoadModel("mlp.dfg", "small").Graph);
        var slots = session.Parameters.Slots.OrderBy(s => s.Name, StringComparer.Ordinal).ToList();
        long total = slots.Sum(s => s.Elements);
        var shards = new OptimizerShards(session.Parameters, new LoneRank(rank: 1, size: 2));

        Assert.Equal(total, shards.Counts.Sum());
        Assert.All(shards.Counts, c => Assert.True(c > 0));
        // Rank 1 owns a run at the end of the name order, and only that.
        var owned = slots.Select(shards.Owns).ToList();
        Assert.Equal(owned.OrderBy(o => o), owned);
        Assert.Equal(shards.Counts[1], slots.Where(shards.Owns).Sum(s => s.Elements));

        var mine = slots.Where(shards.Owns).ToDictionary(s => s.Name, s => session.Parameters.Read(s.Value, s.Elements));
        shards.GatherValues(session.Backend);
        foreach (var slot in slots)
        {
            var values = session.Parameters.Read(slot.Value, slot.Elements);
            if (shards.Owns(slot)) Assert.Equal(mine[slot.Name], values);           // its own, kept
            else Assert.All(values, v => Assert.Equal(-1f, v));                    // its owner's, received
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void Zero_1_allocates_the_moments_of_its_shard_only_and_gathers_all_of_them_to_rank_0_alone(int rank)
    {
        using var session = new Session(new CpuBackend(), seed: 2);
        session.DeclareParameters(DslTestSupport.LoadModel("mlp.dfg", "small").Graph);
        session.OptimizerSharding = new LoneRank(rank, size: 2);
        var shards = session.Shards!;
        session.EnsureOptimizerState();

        var slots = session.Parameters.Slots.OrderBy(s => s.Name, StringComparer.Ordinal).ToList();
        Assert.All(slots, s => Assert.Equal(shards.Owns(s) ? 2 : 0, s.State.Length));
        Assert.Equal(shards.Counts[rank] * 2L * sizeof(float), session.Parameters.StateBytes);
        Assert.True(session.Parameters.StateBytes < slots.Sum(s => s.Elements) * 2 * sizeof(float));
        session.EnsureOptimizerState();                                        // idempotent: nothing reallocated
        Assert.All(slots, s => Assert.Equal(shards.Owns(s) ? 2 : 0, s.State.Length));

        // Moment t of an owned parameter holds t + 1 everywhere; the peer's moments arrive as -1.
        foreach (var slot in slots.Where(shards.Owns))
            for (int t = 0; t < 2; t++) session.Parameters.Write(slot.State[t], Enumerable.Repeat(t + 1f, (int)slot.Elements).ToArray());
        var gathered = shards.GatherStateToRoot(session.Backend, stateTensors: 2);
        if (rank != 0)
        {
            Assert.Null(gathered);
            return;
        }
        Assert.Equal(slots.Select(s => s.Name).Order(), gathered!.Keys.Order());
        foreach (var slot in slots)
            for (int t = 0; t < 2; t++)
            {
                Assert.Equal(slot.Elements, gathered[slot.Name][t].Length);
                Assert.All(gathered[slot.Name][t], v => Assert.Equal(shards.Owns(slot) ? t + 1f : -1f, v));
            }
    }
}

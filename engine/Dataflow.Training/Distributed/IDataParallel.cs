using Dataflow.Engine.Frame;

namespace Dataflow.Training;

/// <summary>
/// The ranks of a data-parallel run as the <see cref="Trainer"/> sees them. Every rank runs the same
/// plan on its shard of each global batch; the exchange replaces the gradients by their mean over
/// ranks (in a fixed order, so every rank's parameters stay bit-identical); rank 0 alone reports,
/// evaluates and writes checkpoints. <see cref="SingleProcess"/> is the default; the MPI-backed one
/// lives in Dataflow.Training.Mpi, so this library does not depend on MPI.
/// </summary>
public interface IDataParallel : IGradientExchange
{
    int Rank { get; }
    int Size { get; }

    /// <summary>For logs: "mpi (rank 1 of 4)".</summary>
    string Description { get; }

    /// <summary>The mean over ranks of a value every rank contributes (the step's loss); identical on every rank.</summary>
    double Mean(double value);

    /// <summary>Rank 0's value, on every rank (the validation loss that early stopping decides on).</summary>
    double FromRoot(double value);

    /// <summary>Every rank's <paramref name="value"/>, indexed by rank, on every rank (for reports).</summary>
    IReadOnlyList<double> EveryRank(double value);

    /// <summary>Tells the stall guard this rank is alive during long work that the others wait for (rank 0's evaluation).</summary>
    void Heartbeat();

    /// <summary>ZeRO stage 1 (each rank updates its shard of the parameters and moments, then all are gathered); null: every rank updates everything.</summary>
    IOptimizerSharding? Sharding { get; }

    /// <summary>What the collectives have cost so far.</summary>
    DataParallelStatistics Statistics { get; }
}

/// <summary>Gradient exchanges made, bytes all-reduced in them, the time spent in every collective, and in the gradients' all-reduces alone.</summary>
public sealed record DataParallelStatistics(long Exchanges, long BytesReduced, TimeSpan Communication, TimeSpan GradientReduction)
{
    /// <summary>The gradients' bytes per second of all-reduce (each rank's buffer over the time in MPI), 0 before any.</summary>
    public double BytesPerSecond => GradientReduction > TimeSpan.Zero ? BytesReduced / GradientReduction.TotalSeconds : 0;
}

/// <summary>One process: every collective is the identity, and the trainer runs exactly as without data parallelism.</summary>
public sealed class SingleProcess : IDataParallel
{
    public static readonly SingleProcess Instance = new();

    public int Rank => 0;
    public int Size => 1;
    public string Description => "single process";
    public double Mean(double value) => value;
    public double FromRoot(double value) => value;
    public IReadOnlyList<double> EveryRank(double value) => [value];
    public void Heartbeat() { }
    public void Exchange(IReadOnlyList<Memory<float>> gradients) { }
    public IOptimizerSharding? Sharding => null;
    public DataParallelStatistics Statistics => new(0, 0, TimeSpan.Zero, TimeSpan.Zero);
}

using Dataflow.Engine.Data;

namespace Dataflow.Training.Tasks;

/// <summary>One example: source and target token ids (<see cref="TransductionVocabulary"/>), without BOS or EOS.</summary>
public sealed record TransductionSample(int[] Source, int[] Target);

/// <summary>
/// A synthetic sequence-to-sequence task the runner generates itself: a seeded stream of examples
/// whose sources are <see cref="MinLength"/> to <see cref="MaxLength"/> tokens long.
/// </summary>
public interface ITransductionTask
{
    string Name { get; }
    int MinLength { get; }
    int MaxLength { get; }

    /// <summary>An example whose source has exactly <paramref name="length"/> tokens.</summary>
    TransductionSample Sample(SeededRandom random, int length);

    /// <summary>An example with a source length drawn uniformly from [MinLength, MaxLength].</summary>
    TransductionSample Sample(SeededRandom random) => Sample(random, DrawLength(random));

    int DrawLength(SeededRandom random) => MinLength + random.NextInt(MaxLength - MinLength + 1);
}

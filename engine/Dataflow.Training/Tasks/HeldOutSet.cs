using Dataflow.Engine.Data;

namespace Dataflow.Training.Tasks;

/// <summary>
/// The evaluation examples of a task: a fixed number per source length, drawn from a fixed seed
/// that no training run uses, without duplicates. The training stream skips every source that is in
/// here (<see cref="Contains"/>), so a reported accuracy is on sequences the model never trained on,
/// even for short lengths where the stream would otherwise meet them by chance (10⁵ strings of 5 digits).
/// </summary>
public sealed class HeldOutSet
{
    /// <summary>The seed of every held-out set; training seeds are mixed differently (<see cref="TransductionStream"/>).</summary>
    public const ulong DefaultSeed = 0xE7A1_0000_5EED_0001UL;

    public const int DefaultPerLength = 128;

    private readonly HashSet<string> _sources;

    private HeldOutSet(ITransductionTask task, IReadOnlyList<TransductionSample> samples)
    {
        Task = task;
        Samples = samples;
        _sources = samples.Select(s => Key(s.Source)).ToHashSet(StringComparer.Ordinal);
    }

    public ITransductionTask Task { get; }
    public IReadOnlyList<TransductionSample> Samples { get; }

    public static HeldOutSet Create(ITransductionTask task, int perLength = DefaultPerLength, ulong seed = DefaultSeed)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(perLength);
        var random = new SeededRandom(seed);
        var samples = new List<TransductionSample>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int length = task.MinLength; length <= task.MaxLength; length++)
        {
            // Cap the draws so a length with few distinct strings (a tiny alphabet or length) cannot loop forever.
            int taken = 0;
            for (int attempt = 0; taken < perLength && attempt < perLength * 20; attempt++)
            {
                var sample = task.Sample(random, length);
                if (seen.Add(Key(sample.Source))) { samples.Add(sample); taken++; }
            }
        }
        return new HeldOutSet(task, samples);
    }

    public bool Contains(ReadOnlySpan<int> source) => _sources.Contains(Key(source));

    /// <summary>The examples grouped by source length, shortest first: one bucket is one padding-free batch.</summary>
    public IEnumerable<(int Length, IReadOnlyList<TransductionSample> Samples)> ByLength() =>
        Samples.GroupBy(s => s.Source.Length).OrderBy(g => g.Key).Select(g => (g.Key, (IReadOnlyList<TransductionSample>)g.ToList()));

    /// <summary>Token ids are small, so one char per token is an exact, cheap key.</summary>
    private static string Key(ReadOnlySpan<int> source)
    {
        Span<char> chars = source.Length <= 256 ? stackalloc char[source.Length] : new char[source.Length];
        for (int i = 0; i < source.Length; i++) chars[i] = (char)source[i];
        return new string(chars);
    }
}

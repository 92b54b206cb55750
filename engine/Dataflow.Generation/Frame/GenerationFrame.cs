using Dataflow.Engine.Ecs;

namespace Dataflow.Generation.Frame;

/// <summary>What the generation systems share besides the world: the decoder, the free cache slots, the frame count, and the results.</summary>
internal sealed class GenerationFrame(BatchDecoder decoder, int vocab)
{
    public BatchDecoder Decoder { get; } = decoder;

    /// <summary>The tokenizer's vocabulary: logits are cut to it (a model may pad its own, as nanoGPT's 50304).</summary>
    public int Vocab { get; } = vocab;

    /// <summary>Lowest first, so admission is deterministic.</summary>
    public SortedSet<int> FreeSlots { get; } = [.. Enumerable.Range(0, decoder.Slots)];

    public long Number { get; set; }

    public Dictionary<int, GenerationResult> Results { get; } = [];

    public static long Now => System.Diagnostics.Stopwatch.GetTimestamp();
}

/// <summary>The queries the systems share: every sequence has all four components.</summary>
internal static class Sequences
{
    public static readonly QueryDescription All = new QueryDescription().WithAll<SequenceState, SequenceTokens, SequenceSampling, SequenceOutput>();
}

using Dataflow.Engine.Ecs;

namespace Dataflow.Generation.Frame;

// A sequence being generated is one entity of the generator's world; these are its components,
// plain unmanaged structs, one per piece of state that one system hands to another, so that the
// systems' declared reads and writes are the frame's data flow and the schedule derives its order
// from them (GenerationSchedule). The managed payloads (history, sampler, text) live in
// SequenceTables, rows indexed by the entity's id. Every sequence has all of them from submission
// to retirement, so the frame systems never change archetypes mid-frame.
//
// Who writes what (R: reads as written this frame; P: reads as the previous frame left it):
//   SequenceSpec     fixed at submission                      R: Admit, Sample, Stream, Tool, Retire
//   CacheSlot        Admit                                    R: Prefill, Decode, Sample, Retire
//   PrefillProgress  Prefill, Decode (slide), Tool (answer)   P: Prefill
//   CacheWindow      Decode (slide), Tool (answer)            P: Prefill, Decode
//   DecodeInput      Stream (sets), Decode, Tool (clear)      P: Decode; R: Tool
//   FreshLogits      Prefill, Decode (set), Sample (clears)   R: Sample
//   SampledToken     Sample                                   R: Stream
//   SequenceEnd      Admit, Sample, Stream                    R: Stream, Retire
//   StreamClock      Stream                                   R: Retire

/// <summary>The request, fixed at submission.</summary>
internal struct SequenceSpec
{
    public int Request;
    public int PromptLength;
    public int MaxTokens;
}

/// <summary>The cache slot Admit gave the sequence (-1: still waiting) and the frame it did so.</summary>
internal struct CacheSlot
{
    public int Slot;
    public long AdmittedFrame;
}

/// <summary>
/// Whether the window still has tokens to prefill, and how many of them are in the cache. A sequence
/// starts active at 0 (its prompt), so admission is just a slot.
/// </summary>
internal struct PrefillProgress
{
    public bool Active;
    public int Done;
}

/// <summary>The first token of the history in the cache (see <see cref="SlidingWindow"/>).</summary>
internal struct CacheWindow
{
    public int Start;
}

/// <summary>Decoding: the last token of the history was sampled and streamed and still has to be fed.</summary>
internal struct DecodeInput
{
    public bool Pending;
}

/// <summary>The sequence's slot in <see cref="SlotLogits"/> holds logits not sampled yet.</summary>
internal struct FreshLogits
{
    public bool Fresh;
}

/// <summary>The token sampled this frame (-1: none) and how many have been generated.</summary>
internal struct SampledToken
{
    public int Token;
    public int Generated;
}

/// <summary>Why the sequence finished (<see cref="FinishReason.None"/>: it has not).</summary>
internal struct SequenceEnd
{
    public FinishReason Reason;
}

/// <summary>When the request was submitted and when its first token was streamed (0: not yet), in stopwatch ticks.</summary>
internal struct StreamClock
{
    public long SubmittedTicks;
    public long FirstTokenTicks;
}

/// <summary>The query every frame system iterates: every sequence has all of these.</summary>
internal static class Sequences
{
    // All nine in the description, so a ForEach over any of them finds its query without building a new description.
    public static readonly QueryDescription All = new QueryDescription()
        .WithAll<SequenceSpec, CacheSlot, PrefillProgress, CacheWindow>()
        .WithAll<DecodeInput, FreshLogits, SampledToken, SequenceEnd>()
        .WithAll<StreamClock>();
}

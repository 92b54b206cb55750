using System.Text;
using Dataflow.Engine.Tokenizers;

namespace Dataflow.Generation.Frame;

// A sequence being generated is one entity of the generator's world; these are its components.
// Every sequence has all four from submission to retirement (its phase says where it is), so the
// frame systems never change archetypes mid-frame.

public enum SequencePhase : byte { Waiting, Prefilling, Decoding, Finished }

/// <summary>Where a sequence is in its life and in its cache slot.</summary>
public struct SequenceState
{
    public int Request;
    public SequencePhase Phase;
    public int Slot;
    /// <summary>The first token of <see cref="SequenceTokens.History"/> in the cache (see <see cref="SlidingWindow"/>).</summary>
    public int WindowStart;
    /// <summary>Prefilling: how many of the window's tokens are in the cache.</summary>
    public int PrefillDone;
    /// <summary>The token sampled this frame (-1: none), for the stream system.</summary>
    public int NewToken;
    /// <summary>Decoding: whether the last token of the history still has to be fed.</summary>
    public bool Pending;
    public int Generated;
    public FinishReason Reason;
    public long AdmittedFrame;
}

/// <summary>The prompt and generated tokens (the history the window slides over) and the logits of the next token.</summary>
public struct SequenceTokens
{
    public int PromptLength;
    public List<int> History;
    public float[] Logits;
    /// <summary>Logits not sampled yet.</summary>
    public bool Fresh;
}

/// <summary>The sampler (settings and RNG state) and the stop conditions.</summary>
public struct SequenceSampling
{
    public Sampler Sampler;
    public int MaxTokens;
    public IReadOnlyList<string> StopStrings;
    public IReadOnlyList<int> StopTokens;
    public IToolCalls? Tools;
}

/// <summary>The text so far, the incremental decoder that streams it, the sink, and the clock.</summary>
public struct SequenceOutput
{
    public IGenerationSink? Sink;
    public StreamingDecoder Stream;
    public StringBuilder Text;
    public long SubmittedTicks;
    public long FirstTokenTicks;
}

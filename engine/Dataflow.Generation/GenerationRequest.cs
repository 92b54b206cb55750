namespace Dataflow.Generation;

/// <summary>
/// One sequence to generate: its prompt's tokens, how to sample, and when to stop. Generation ends
/// after <see cref="MaxTokens"/> tokens, at a token of <see cref="StopTokens"/> (not emitted), or
/// once the text completes one of <see cref="StopStrings"/> (which stays in the text, as it was streamed).
/// </summary>
public sealed record GenerationRequest(int[] Prompt)
{
    public int MaxTokens { get; init; } = 200;
    public SamplingOptions Sampling { get; init; } = new();
    public ulong Seed { get; init; } = 1;
    public IReadOnlyList<string> StopStrings { get; init; } = [];
    public IReadOnlyList<int> StopTokens { get; init; } = [];

    /// <summary>A tool the text may call; its answers are fed in as they are asked for (null: none).</summary>
    public IToolCalls? Tools { get; init; }

    /// <summary>Receives the text as it is decoded and the result at the end; null: results only.</summary>
    public IGenerationSink? Sink { get; init; }
}

/// <summary>Where a sequence's text goes as it is generated (called on the generator's thread, in frame order).</summary>
public interface IGenerationSink
{
    void OnText(int request, string piece);
    void OnFinished(GenerationResult result);
}

/// <summary>Why a sequence stopped.</summary>
public enum FinishReason : byte { None, Length, StopToken, StopString }

/// <summary>
/// A finished sequence: its generated text and tokens, counts, the cache slot it used, the frames it
/// was admitted and retired in, and timings from its submission (time to first token, total).
/// </summary>
public sealed record GenerationResult(
    int Request, string Text, int[] Tokens, int PromptTokens, FinishReason Reason, int Slot,
    long AdmittedFrame, long RetiredFrame, TimeSpan TimeToFirstToken, TimeSpan Total)
{
    public int GeneratedTokens => Tokens.Length;
}

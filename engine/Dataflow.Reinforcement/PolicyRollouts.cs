using Dataflow.Engine.Sessions;
using Dataflow.Engine.Tokenizers;
using Dataflow.Generation;

namespace Dataflow.Reinforcement;

/// <summary>How completions are sampled from the policy.</summary>
/// <param name="MaxTokens">Most tokens per completion (fewer when the prompt leaves less of the context).</param>
/// <param name="StopToken">Ends a completion (an end-of-text id); it is trained as the completion's last token, so the policy learns where to stop.</param>
public sealed record RolloutOptions(int MaxTokens = 64, SamplingOptions? Sampling = null, int? StopToken = null, int PrefillChunk = 64)
{
    public SamplingOptions SamplingOrDefault => Sampling ?? new SamplingOptions();
}

/// <summary>
/// Samples completions from the policy being trained with the batched <see cref="Generator"/>, on the
/// training session itself: its decode graphs read the parameters the optimizer updates, so every
/// rollout sees the current policy. One generator serves rollouts and evaluation (its key/value caches
/// are the session's state tensors, sized for <paramref name="slots"/>).
/// </summary>
public sealed class PolicyRollouts : IDisposable
{
    private readonly Generator _generator;
    private readonly int _context;

    public PolicyRollouts(Session session, PolicyModel policy, ITokenizer tokenizer, int slots, int prefillChunk = 64)
    {
        _context = policy.Context;
        var decoder = new BatchDecoder(session, (length, cacheSlots) => policy.Config.Load(training: false, length, cacheSlots),
            slots, policy.Context, Math.Min(prefillChunk, policy.Context));
        _generator = new Generator(decoder, tokenizer);
    }

    public ITokenizer Tokenizer => _generator.Tokenizer;

    /// <summary>One completion per prompt, drawn with seed <paramref name="seeds"/>[i]; results in prompt order.</summary>
    public GenerationResult[] Sample(IReadOnlyList<int[]> prompts, IReadOnlyList<ulong> seeds, RolloutOptions options, SamplingOptions? sampling = null)
    {
        var ids = new int[prompts.Count];
        for (int i = 0; i < prompts.Count; i++)
            ids[i] = _generator.Submit(new GenerationRequest(prompts[i])
            {
                MaxTokens = Math.Max(0, Math.Min(options.MaxTokens, _context - prompts[i].Length)),
                Sampling = sampling ?? options.SamplingOrDefault,
                Seed = seeds[i],
                StopTokens = options.StopToken is { } stop ? [stop] : [],
            });
        while (_generator.Step()) { }
        return [.. ids.Select(id => _generator.Result(id)!)];
    }

    /// <summary>The tokens a completion trains on: what was generated, and the stop token when it ended the completion.</summary>
    public static int[] TrainedTokens(GenerationResult result, RolloutOptions options) =>
        result.Reason == FinishReason.StopToken && options.StopToken is { } stop ? [.. result.Tokens, stop] : result.Tokens;

    public void Dispose() => _generator.Dispose();
}

using Dataflow.Engine.Backends;
using Dataflow.Engine.Data;

namespace Dataflow.Training;

/// <summary>nanoGPT's get_batch as a batch source: random windows of the training split, from a generator whose state is checkpointed.</summary>
public sealed class LanguageModelBatches : IBatchSource
{
    private readonly TokenBatchSampler _sampler;
    private readonly SeededRandom _random;
    private readonly int[] _tokens, _targets;
    private readonly TrainingBatch _batch;

    public LanguageModelBatches(int[] trainTokens, LanguageModelInputs inputs, int batchSize, int context, ulong seed)
    {
        _sampler = new TokenBatchSampler(trainTokens, context);
        _random = new SeededRandom(seed);
        int length = MemoryBudget.HostArray(2L * batchSize * context, sizeof(int), $"token batches of {batchSize} × {context}") / 2;
        (_tokens, _targets) = (new int[length], new int[length]);
        _batch = new TrainingBatch(inputs.Bindings(batchSize, context),
            new Dictionary<string, Array> { [inputs.Tokens] = _tokens, [inputs.Targets] = _targets }, batchSize, (long)batchSize * context);
    }

    public TrainingBatch Next()
    {
        _sampler.Next(_random, _tokens, _targets);
        return _batch;
    }

    public byte[] GetState() => _random.GetState();
    public void SetState(ReadOnlySpan<byte> state) => _random.SetState(state);
}

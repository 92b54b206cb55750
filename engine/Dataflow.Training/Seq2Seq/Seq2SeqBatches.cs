using Dataflow.Training.Tasks;

namespace Dataflow.Training;

/// <summary>A transduction task's training stream as batches: one source length per batch, so the shape (and the compiled step) varies.</summary>
public sealed class Seq2SeqBatches(TransductionStream stream, Seq2SeqInputs inputs, int batchSize) : IBatchSource
{
    public TrainingBatch Next()
    {
        var examples = Seq2SeqBatch.From(stream.NextBatch(batchSize));
        long tokens = examples.TargetOut.Count(t => t != TransductionVocabulary.Pad);
        return new TrainingBatch(inputs.Bindings(examples), Seq2SeqInputs.Feed(examples), examples.Count, tokens);
    }

    public byte[] GetState() => stream.GetState();
    public void SetState(ReadOnlySpan<byte> state) => stream.SetState(state);
}

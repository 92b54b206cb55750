using Dataflow.Engine.Sessions;
using Dataflow.Training.Tasks;

namespace Dataflow.Training;

/// <summary>
/// Greedy decoding of a whole batch with the graph compiled for [B, S] sources and [B, T] targets.
/// Step t feeds BOS and the t tokens chosen so far, PAD after them, and takes the argmax at position
/// t. Because decoder self-attention is causal (and cross-attention reads only the source), the
/// PADs after position t cannot change its logits: this is exactly decoding the growing prefix,
/// with one compiled graph instead of one per prefix length. Sequences are at most ~21 tokens, so
/// re-running the full decoder each step (no key/value cache) is cheap.
/// </summary>
public static class GreedyDecoder
{
    /// <summary>The chosen tokens [B, T]: position t holds the prediction after the prefix of length t + 1; PAD after a row's EOS.</summary>
    public static int[] Decode(Session session, CompiledProgram graph, Seq2SeqBatch batch, int vocabulary)
    {
        var (count, length) = (batch.Count, batch.TargetLength);
        var prefix = new int[count * length];
        for (int b = 0; b < count; b++) prefix[b * length] = TransductionVocabulary.Bos;
        var chosen = new int[count * length];
        var done = new bool[count];
        // The loss node wants target_out fed; its value is not used here.
        var feed = new Dictionary<string, Array>
        {
            [Seq2SeqInputs.Source] = batch.Source,
            [Seq2SeqInputs.TargetIn] = prefix,
            [Seq2SeqInputs.TargetOut] = batch.TargetOut,
        };
        for (int t = 0, open = count; t < length && open > 0; t++)
        {
            var logits = session.Run(graph, feed, [Seq2SeqInputs.Logits]).Results[Seq2SeqInputs.Logits];
            for (int b = 0; b < count; b++)
            {
                if (done[b]) continue;
                int token = ClassifierEvaluator.ArgMax(logits.AsSpan((b * length + t) * vocabulary, vocabulary));
                chosen[b * length + t] = token;
                if (t + 1 < length) prefix[b * length + t + 1] = token;
                if (token == TransductionVocabulary.Eos) { done[b] = true; open--; }
            }
        }
        return chosen;
    }
}

namespace Dataflow.Training.Tasks;

/// <summary>
/// Examples laid out as the encoder–decoder's three inputs, row-major [B, S] and [B, T]:
/// <c>source</c>; <c>target_in</c> = BOS, target (the decoder's input, shifted right); <c>target_out</c> =
/// target, EOS. Sources in a batch share one length, so the encoder sees no padding (attention
/// needs no key mask). Targets of different lengths are padded with PAD at the end, which the loss
/// ignores (<c>cross_entropy(..., ignore = 0)</c>) and which causal self-attention keeps from
/// reaching any earlier position.
/// </summary>
public sealed record Seq2SeqBatch(int Count, int SourceLength, int TargetLength, int[] Source, int[] TargetIn, int[] TargetOut)
{
    public static Seq2SeqBatch From(IReadOnlyList<TransductionSample> samples)
    {
        if (samples.Count == 0) throw new ArgumentException("a batch needs at least one example", nameof(samples));
        int s = samples[0].Source.Length;
        if (samples.Any(x => x.Source.Length != s))
            throw new ArgumentException("every source in a batch must have the same length (batches are bucketed by length)", nameof(samples));
        int t = samples.Max(x => x.Target.Length) + 1;
        var source = new int[samples.Count * s];
        var targetIn = new int[samples.Count * t];
        var targetOut = new int[samples.Count * t];   // zero-filled: PAD
        for (int b = 0; b < samples.Count; b++)
        {
            var x = samples[b];
            x.Source.CopyTo(source, b * s);
            targetIn[b * t] = TransductionVocabulary.Bos;
            x.Target.CopyTo(targetIn, b * t + 1);
            x.Target.CopyTo(targetOut, b * t);
            targetOut[b * t + x.Target.Length] = TransductionVocabulary.Eos;
        }
        return new Seq2SeqBatch(samples.Count, s, t, source, targetIn, targetOut);
    }
}

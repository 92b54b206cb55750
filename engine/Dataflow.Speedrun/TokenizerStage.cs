using System.Diagnostics;
using Dataflow.Chat;

namespace Dataflow.Speedrun;

/// <summary>
/// The synthetic base corpus (the chat tasks' training problems in prose, seeded) and its tokenizer:
/// characters plus the chat markers, as <c>train --text synthetic</c> builds them. Characters, not BPE:
/// the tasks are digits and letters that a model this small must see one by one (a BPE merges digits
/// into tokens whose sums it cannot learn in minutes), and the model file's vocab is sized for it.
/// </summary>
public sealed class TokenizerStage : ISpeedrunStage
{
    public const string Spec = "char";

    public string Name => "tokenizer";

    public StageResult Run(SpeedrunContext context)
    {
        var clock = Stopwatch.StartNew();
        string corpus = SyntheticCorpus.Generate(context.Words, context.Settings.Seed);
        var tokenizer = SyntheticCorpus.Tokenizer(Spec, corpus);
        string path = context.PathOf("tokenizer.json");
        File.WriteAllText(path, tokenizer.ToJson());
        (context.Corpus, context.Tokenizer) = (corpus, tokenizer);
        return new StageResult(Name, clock.Elapsed.TotalSeconds)
        {
            Checkpoint = path,
            Description = $"{Spec}+chat tokenizer over the synthetic corpus (the chat tasks' training problems in prose)",
            Metrics = [StageResult.Metric("vocab", tokenizer.VocabSize), StageResult.Metric("corpus_characters", corpus.Length)],
        };
    }
}

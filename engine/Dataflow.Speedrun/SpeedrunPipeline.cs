using Dataflow.Chat;
using Dataflow.Engine;
using Dataflow.Engine.Backends;
using Dataflow.Training;

namespace Dataflow.Speedrun;

/// <summary>
/// nanochat's speedrun on this runtime: the stages in order (tokenizer, base pre-training, SFT, RL), each
/// from the last one's checkpoint, under one time budget, ending in a <see cref="ReportCard"/>. Nothing here
/// prints: progress goes to the observers, the card to the caller.
/// </summary>
public static class SpeedrunPipeline
{
    public const int SamplesPerTask = 1;

    /// <summary>The stages <c>dataflow speedrun</c> runs; another (DPO after SFT, say) is one more entry.</summary>
    public static IReadOnlyList<ISpeedrunStage> DefaultStages { get; } = [new TokenizerStage(), new PretrainStage(), new SftStage(), new RlStage()];

    /// <param name="backend">Makes a fresh backend for each run (each disposes its own).</param>
    public static ReportCard Run(SpeedrunSettings settings, Func<IBackend> backend, IReadOnlyList<ITrainingObserver> observers, IReadOnlyList<ISpeedrunStage>? stages = null)
    {
        settings = settings.Validated();
        var budget = new StageBudget(settings.Minutes * 60);    // the clock of the whole run starts here
        try
        {
            Directory.CreateDirectory(settings.OutputDirectory);
            // Found out now, not after the first stage's minutes: the folder must take files.
            string probe = Path.Combine(settings.OutputDirectory, ".speedrun-write-check");
            File.WriteAllText(probe, "");
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new ConfigurationException($"--out {settings.OutputDirectory}: cannot write the output folder there: {e.Message}", e);
        }
        var context = new SpeedrunContext(settings, budget, Recipe.Of(settings), backend, observers);
        var results = new List<StageResult>();
        foreach (var stage in stages ?? DefaultStages)
        {
            context.Say($"== speedrun stage {results.Count + 1}: {stage.Name} ({context.Budget.Elapsed:F0} s of {context.Budget.Seconds:F0} s used)");
            var result = stage.Run(context);
            results.Add(result);
            context.Say($"== {stage.Name} done in {result.Seconds:F1} s{(result.Steps > 0 ? $", {result.Steps} steps" : "")}");
        }
        var samples = (context.Scores ?? []).SelectMany(s => s.Samples.Take(SamplesPerTask).Select(x =>
            new SampleConversation(s.Task, x.Question, ChatReply.Readable(x.Reply).Trim(), x.Correct))).ToList();
        var card = new ReportCard(settings, budget.Seconds, budget.Elapsed, budget.Scale, results, samples);
        context.Say(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"speedrun wall time {card.TotalSeconds:F1} s ({card.TotalSeconds / 60:F2} min) of the {budget.Seconds:F0} s budget: {(card.WithinBudget ? "within it" : "over it")}"));
        return card;
    }
}

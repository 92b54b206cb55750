using Dataflow.Runner.Cli;

namespace Dataflow.Runner.Bench;

/// <summary>
/// One model and batch that <c>bench gpt-train</c> or <c>bench mlp-train</c> times, with the step
/// counts that keep the whole bench within a few minutes at that model's speed.
/// </summary>
/// <param name="Context">The T binding (sequence length) when the model has one; <c>--set ctx=</c> overrides it.</param>
/// <param name="OneAtATime">
/// Run the fused and unfused configurations one after the other instead of interleaved: a large
/// model's two sessions (parameters, gradients and both Adam moments each) would not both fit beside
/// other work, and its steps are long enough that a burst of load averages out within a round.
/// </param>
public sealed record TrainScenario(string Name, string ModelFile, string[] Overrides, int Batch, int? Context, int Steps, int Rounds, int ProfiledSteps, bool OneAtATime = false)
{
    /// <summary>nanoGPT's CPU "baby" character-level configuration (dropout off): ~30 ms a step.</summary>
    public static readonly TrainScenario Baby = new("baby", "gpt.dfg", ["vocab=65", "ctx=64", "d=128", "heads=4", "layers=4", "dropout=0"],
        Batch: 12, Context: 64, Steps: 20, Rounds: 3, ProfiledSteps: 10);

    /// <summary>GPT-2 small (124M parameters, the model file's defaults) at B 4, T 64 as llm.c's train_gpt2.c runs it: ~1.5 s a step.</summary>
    public static readonly TrainScenario Gpt2Small = new("gpt2-124m", "gpt.dfg", ["dropout=0"],
        Batch: 4, Context: 64, Steps: 1, Rounds: 3, ProfiledSteps: 1, OneAtATime: true);

    /// <summary>The Fashion-MNIST MLP (784-512-256-10) at B 128.</summary>
    public static readonly TrainScenario Mlp = new("mlp", "mlp.dfg", ["dropout=0"], Batch: 128, Context: null, Steps: 20, Rounds: 3, ProfiledSteps: 10);

    public static readonly TrainScenario[] Gpt = [Baby, Gpt2Small];

    /// <summary>This scenario with the command line's values where given (<paramref name="sets"/> after the scenario's own overrides).</summary>
    public TrainRun With(int? steps, int? rounds, int? batch, IEnumerable<string> sets)
    {
        var overrides = Overrides.Concat(sets).ToArray();
        var settings = CommonOptions.ParseOverrides(overrides);
        var bindings = new Dictionary<string, long> { ["B"] = batch ?? Batch };
        if (Context is not null) bindings["T"] = settings.TryGetValue("ctx", out var ctx) ? long.Parse(ctx) : Context.Value;
        return new TrainRun(overrides, bindings, steps ?? Steps, rounds ?? Rounds);
    }
}

/// <summary>A scenario with the command line's overrides applied: what one run of it binds and times.</summary>
public sealed record TrainRun(string[] Overrides, IReadOnlyDictionary<string, long> Bindings, int Steps, int Rounds);

namespace Dataflow.Graph.Dsl;

/// <summary>
/// Reads the <c>optimizer</c>, <c>schedule</c> and <c>train</c> lines. Optimizer and schedule names and
/// their arguments are checked here, so a typo fails at load time, not after an epoch.
/// </summary>
public static class TrainingDefaultsReader
{
    private static readonly Dictionary<string, string[]> Optimizers = new()
    {
        ["sgd"] = ["lr", "momentum", "weight_decay", "nesterov", "clip"],
        ["adam"] = ["lr", "beta1", "beta2", "eps", "weight_decay", "clip"],
        ["adamw"] = ["lr", "beta1", "beta2", "eps", "weight_decay", "clip"],
    };

    private static readonly Dictionary<string, string[]> Schedules = new()
    {
        ["constant"] = [],
        ["warmup_cosine"] = ["warmup", "min_lr"],
        ["inverse_sqrt"] = ["warmup"],
    };

    public static TrainingDefaults Read(SourceText source, IEnumerable<DefaultsStmt> statements, IReadOnlyDictionary<string, double> settings)
    {
        string optimizer = "adam", schedule = "constant";
        IReadOnlyDictionary<string, double> optimizerArgs = new Dictionary<string, double>();
        IReadOnlyDictionary<string, double> scheduleArgs = new Dictionary<string, double>();
        IReadOnlyDictionary<string, double> trainArgs = new Dictionary<string, double>();
        var seen = new Dictionary<string, DefaultsStmt>();

        foreach (var s in statements)
        {
            if (seen.TryGetValue(s.Kind, out var first))
                throw source.Error(s.Loc, $"'{s.Kind}' is declared twice (first at line {first.Loc.Line})");
            seen[s.Kind] = s;
            switch (s.Kind)
            {
                case "optimizer":
                    optimizer = s.Name;
                    optimizerArgs = Args(source, s, Known(source, s, Optimizers), settings);
                    break;
                case "schedule":
                    schedule = s.Name;
                    scheduleArgs = Args(source, s, Known(source, s, Schedules), settings);
                    break;
                default:
                    trainArgs = Args(source, s, null, settings);
                    break;
            }
        }
        return new TrainingDefaults(optimizer, optimizerArgs, schedule, scheduleArgs, trainArgs);
    }

    private static string[] Known(SourceText source, DefaultsStmt s, Dictionary<string, string[]> table) =>
        table.TryGetValue(s.Name, out var args) ? args
            : throw source.Error(s.Loc, $"unknown {s.Kind} '{s.Name}'{Suggest.Hint(s.Name, table.Keys)} (known: {string.Join(", ", table.Keys)})");

    private static Dictionary<string, double> Args(SourceText source, DefaultsStmt s, string[]? known, IReadOnlyDictionary<string, double> settings)
    {
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var arg in s.Args)
        {
            if (known is not null && !known.Contains(arg.Name!))
                throw source.Error(arg.Loc, $"{s.Kind} {s.Name} has no setting '{arg.Name}'{Suggest.Hint(arg.Name!, known)}" +
                                            (known.Length == 0 ? " (it takes none)" : $" (settings: {string.Join(", ", known)})"));
            result[arg.Name!] = arg.Value is BoolExpr b ? (b.Value ? 1 : 0) : ModelSettings.Evaluate(source, arg.Value, settings);
        }
        return result;
    }
}

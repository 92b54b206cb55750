using Dataflow.Graph.Lora;

namespace Dataflow.Graph.Dsl;

/// <summary>
/// Reads the <c>lora(rank = 8, alpha = 16, targets = [qkv, proj, fc], tokens = special)</c> line. It declares how this
/// model is adapted when a run asks for LoRA (<c>--lora</c>); it does not add adapters by itself.
/// </summary>
public static class LoraDeclarationReader
{
    private static readonly string[] Settings = ["rank", "alpha", "targets", "tokens"];

    public static LoraSpec? Read(SourceText source, IEnumerable<DefaultsStmt> statements, IReadOnlyDictionary<string, double> settings)
    {
        DefaultsStmt? seen = null;
        LoraSpec? spec = null;
        foreach (var s in statements.Where(s => s.Kind == "lora"))
        {
            if (seen is not null) throw source.Error(s.Loc, $"'lora' is declared twice (first at line {seen.Loc.Line})");
            seen = s;
            spec = LoraSpec.Empty;
            foreach (var arg in s.Args)
            {
                spec = arg.Name switch
                {
                    "rank" => spec with { Rank = Rank(source, arg, settings) },
                    "alpha" => spec with { Alpha = Alpha(source, arg, settings) },
                    "targets" => spec with { Targets = Targets(source, arg.Value) },
                    "tokens" => spec with { Tokens = Tokens(source, arg.Value) },
                    _ => throw source.Error(arg.Loc, $"lora has no setting '{arg.Name}'{Suggest.Hint(arg.Name!, Settings)} (settings: {string.Join(", ", Settings)})"),
                };
            }
        }
        return spec;
    }

    private static int Rank(SourceText source, Arg arg, IReadOnlyDictionary<string, double> settings)
    {
        double value = ModelSettings.Evaluate(source, arg.Value, settings);
        if (value < 1 || value != Math.Floor(value) || value > int.MaxValue)
            throw source.Error(arg.Value.Loc, $"lora rank {value}: must be a whole number, 1 or more");
        return (int)value;
    }

    private static double Alpha(SourceText source, Arg arg, IReadOnlyDictionary<string, double> settings)
    {
        double value = ModelSettings.Evaluate(source, arg.Value, settings);
        if (!double.IsFinite(value) || value <= 0) throw source.Error(arg.Value.Loc, $"lora alpha {value}: must be a finite number greater than 0");
        return value;
    }

    /// <summary><c>special</c> or <c>none</c>, a bare name.</summary>
    private static string Tokens(SourceText source, Expr value)
    {
        try
        {
            return LoraSpec.CheckTokens(value is NameExpr name ? name.Name : throw new LoraException($"tokens is a name: {string.Join(" or ", LoraSpec.TokenChoices)}"));
        }
        catch (LoraException e)
        {
            throw source.Error(value.Loc, "lora: " + e.Message);
        }
    }

    /// <summary>A list of role names, <c>[qkv, proj]</c>, or one name.</summary>
    private static List<string> Targets(SourceText source, Expr value)
    {
        var items = value is ListExpr list ? list.Items : [value];
        if (items.Count == 0) throw source.Error(value.Loc, "lora targets: name at least one (targets: " + string.Join(", ", LoraTargets.Roles.Keys) + ")");
        var targets = new List<string>();
        foreach (var item in items)
        {
            if (item is not NameExpr name) throw source.Error(item.Loc, "lora targets are names of layer roles, like [qkv, proj, fc]");
            try
            {
                LoraTargets.Check(name.Name);
            }
            catch (LoraException e)
            {
                throw source.Error(name.Loc, "lora: " + e.Message);
            }
            targets.Add(name.Name);
        }
        return targets;
    }
}

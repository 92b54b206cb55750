using System.Globalization;

namespace Dataflow.Graph.Dsl;

/// <summary>
/// Resolves a model's parameters: for each, in declaration order, the <c>--set</c> override, else
/// the preset's value, else the default. Values are number expressions that may use parameters
/// declared earlier, so <c>d_ff = 4 * d</c> follows an override of <c>d</c>.
/// </summary>
public static class ModelSettings
{
    public static Dictionary<string, double> Resolve(SourceText source, ModelStmt model, IReadOnlyList<PresetStmt> presets, ModelOptions options)
    {
        var names = model.Parameters.Select(p => p.Name!).ToList();
        var parameterList = string.Join(", ", names);

        PresetStmt? preset = null;
        if (options.Preset is { Length: > 0 } wanted)
        {
            preset = presets.FirstOrDefault(p => p.Name == wanted);
            if (preset is null)
            {
                var available = presets.Count == 0 ? "the model has no presets" : "presets: " + string.Join(", ", presets.Select(p => p.Name));
                throw source.Error(model.Loc, $"unknown preset '{wanted}' for model {model.Name}{Suggest.Hint(wanted, presets.Select(p => p.Name))} ({available})");
            }
        }
        foreach (var p in presets)
        {
            var seen = presets.TakeWhile(q => q != p).FirstOrDefault(q => q.Name == p.Name);
            if (seen is not null) throw source.Error(p.Loc, $"preset '{p.Name}' is declared twice (first at line {seen.Loc.Line})");
            foreach (var value in p.Values)
                if (!names.Contains(value.Name!))
                    throw source.Error(value.Loc, $"'{value.Name}' is not a parameter of model {model.Name}{Suggest.Hint(value.Name!, names)} (parameters: {parameterList})");
        }

        var overrides = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (key, text) in options.Overrides ?? new Dictionary<string, string>())
        {
            var loc = model.Parameters.FirstOrDefault(p => p.Name == key)?.Loc;
            if (loc is null)
                throw source.Error(model.Loc, $"'{key}' is not a parameter of model {model.Name} (parameters: {parameterList})");
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) || !double.IsFinite(number))
                throw source.Error(loc.Value, $"bad value '{text}' for parameter '{key}' of model {model.Name}: expected a number");
            overrides[key] = number;
        }

        var settings = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var parameter in model.Parameters)
        {
            var name = parameter.Name!;
            if (settings.ContainsKey(name)) throw source.Error(parameter.Loc, $"parameter '{name}' is declared twice");
            if (overrides.TryGetValue(name, out var overridden)) settings[name] = overridden;
            else if (preset?.Values.FirstOrDefault(v => v.Name == name) is { } fromPreset) settings[name] = Evaluate(source, fromPreset.Value, settings);
            else settings[name] = Evaluate(source, parameter.Value, settings);
        }
        return settings;
    }

    /// <summary>Evaluates a number expression over already-known settings.</summary>
    public static double Evaluate(SourceText source, Expr expr, IReadOnlyDictionary<string, double> settings)
    {
        switch (expr)
        {
            case NumberExpr n: return n.Value;
            case NameExpr name when settings.TryGetValue(name.Name, out var v): return v;
            case NameExpr name:
                throw source.Error(name.Loc, $"unknown name '{name.Name}'{Suggest.Hint(name.Name, settings.Keys)}; only numbers and earlier parameters may be used here");
            case NegateExpr neg: return -Evaluate(source, neg.Operand, settings);
            case BinaryExpr b:
                var left = Evaluate(source, b.Left, settings);
                var right = Evaluate(source, b.Right, settings);
                if (b.Op == '/' && right == 0) throw source.Error(b.Loc, "division by zero");
                return b.Op switch { '+' => left + right, '-' => left - right, '*' => left * right, _ => left / right };
            default:
                throw source.Error(expr.Loc, "expected a number here");
        }
    }
}

using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Dataflow.Runner.Cli;

/// <summary>
/// The range of every numeric flag, checked once, right after parsing and before any work, so a
/// bad value is refused in the user's own words (`--lr -1: must be …`) instead of surfacing later as
/// another flag's complaint, a NaN loss mid-run or an internal error. A flag means the same on every
/// verb that has it, so one table serves them all.
/// </summary>
public static class FlagRules
{
    private sealed record Rule(Func<double, bool> Holds, string Requirement);

    private static Rule Positive() => new(v => double.IsFinite(v) && v > 0, "a finite number greater than 0");
    private static Rule NonNegative() => new(v => double.IsFinite(v) && v >= 0, "a finite number, 0 or more");
    private static Rule AtLeastOne() => new(v => v >= 1, "a whole number, 1 or more");
    private static Rule ZeroOrMore() => new(v => v >= 0, "a whole number, 0 or more");

    private static readonly Dictionary<string, Rule> Rules = new(StringComparer.Ordinal)
    {
        ["--lr"] = Positive(),
        ["--min-lr"] = NonNegative(),
        ["--temperature"] = NonNegative(),
        ["--top-p"] = new(v => double.IsFinite(v) && v > 0 && v <= 1, "a number in (0, 1]"),
        // Per measurement: a benchmark that asks for hours is a typo, not a plan.
        ["--seconds"] = new(v => double.IsFinite(v) && v > 0 && v <= 600, "a number of seconds in (0, 600]"),
        ["--steps"] = AtLeastOne(),
        ["--epochs"] = AtLeastOne(),
        ["--batch"] = AtLeastOne(),
        ["--rounds"] = AtLeastOne(),
        ["--eval-interval"] = AtLeastOne(),
        ["--eval-iters"] = AtLeastOne(),
        ["--eval-per-length"] = AtLeastOne(),
        ["--min-length"] = AtLeastOne(),
        ["--max-length"] = AtLeastOne(),
        ["--max-tokens"] = AtLeastOne(),
        ["--vocab"] = AtLeastOne(),
        ["--collective-timeout"] = Positive(),
        ["--zero"] = new(v => v is 0 or 1, "0 (off) or 1 (shard the optimizer state)"),
        ["--warmup"] = ZeroOrMore(),
        ["--average"] = ZeroOrMore(),
        ["--top-k"] = ZeroOrMore(),
        ["--top"] = ZeroOrMore(),
        ["--verbose"] = new(v => v is >= 0 and <= 4, "a whole number from 0 to 4"),
    };

    /// <summary>Flags that name a file or folder: an empty value is never one.</summary>
    private static readonly HashSet<string> PathFlags = ["--checkpoint", "--resume", "--text", "--out", "--log", "--prompts", "--file", "--model", "--adapter", "--from", "--data", "--base", "--merged"];

    /// <summary>Throws a <see cref="UsageException"/> naming the first flag whose value is out of its range.</summary>
    public static void Check(ParseResult parsed)
    {
        for (SymbolResult? result = parsed.CommandResult; result is not null; result = result.Parent)
        {
            if (result is not CommandResult command) continue;
            foreach (var option in command.Children.OfType<OptionResult>())
            {
                if (option.Implicit) continue;
                if (PathFlags.Contains(option.Option.Name) && option.Tokens.Any(t => t.Value.Trim().Length == 0))
                    throw new UsageException($"{option.Option.Name} '': needs a path");
                if (!Rules.TryGetValue(option.Option.Name, out var rule)) continue;
                foreach (var token in option.Tokens)
                {
                    bool parsedNumber = double.TryParse(token.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double value);
                    if (!parsedNumber || !rule.Holds(value))
                        throw new UsageException($"{option.Option.Name} {Show(token.Value)}: must be {rule.Requirement}");
                }
            }
        }
    }

    private static string Show(string value) => value.Length == 0 ? "''" : value;
}

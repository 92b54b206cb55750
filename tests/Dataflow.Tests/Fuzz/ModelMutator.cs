using System.Text;
using System.Text.RegularExpressions;

namespace Dataflow.Tests.Fuzz;

/// <summary>
/// Seeded mutations of a model file's text, the kinds of damage a user's editor, a bad merge or a
/// typo does: spans deleted, duplicated or swapped, a token replaced by another, random bytes, and
/// numbers pushed to the edges (0, −1, 1e30, NaN, 2^63). The same seed gives the same mutant.
/// </summary>
internal static partial class ModelMutator
{
    private static readonly string[] EdgeNumbers = ["0", "-1", "1e30", "nan", "NaN", "9223372036854775808", "4294967296", "2147483648", "0.5", "-0", "1e-30", "inf"];
    private static readonly string[] Words =
        ["model", "block", "input", "output", "return", "repeat", "preset", "optimizer", "schedule", "train", "f32", "i32", "B", "T",
         "linear", "relu", "sigmoid", "gelu", "layernorm", "attention", "mlp", "embedding", "unembed", "cross_entropy", "dropout",
         "x", "h", "(", ")", ",", "=", ":", "[", "]", "+", "-", "*", "/", "#", "\n", "    ", "\t", "\"", "'", "\\", "tied", "causal"];

    [GeneratedRegex(@"[A-Za-z_][A-Za-z0-9_]*|\d+(\.\d+)?([eE][-+]?\d+)?|\S")]
    private static partial Regex TokenPattern();

    [GeneratedRegex(@"\d+(\.\d+)?([eE][-+]?\d+)?")]
    private static partial Regex NumberPattern();

    public static (string Text, string Mutation) Mutate(string text, Random random)
    {
        int kind = random.Next(7);
        return kind switch
        {
            0 => DeleteSpan(text, random),
            1 => DuplicateSpan(text, random),
            2 => SwapLines(text, random),
            3 => ReplaceToken(text, random),
            4 => InsertBytes(text, random),
            5 => EdgeNumber(text, random),
            _ => Truncate(text, random),
        };
    }

    private static (int Start, int Length) Span(string text, Random random)
    {
        int start = random.Next(text.Length);
        int length = 1 + random.Next(Math.Min(80, text.Length - start));
        return (start, length);
    }

    private static (string, string) DeleteSpan(string text, Random random)
    {
        var (start, length) = Span(text, random);
        return (text.Remove(start, length), $"delete {length} chars at {start}");
    }

    private static (string, string) DuplicateSpan(string text, Random random)
    {
        var (start, length) = Span(text, random);
        int at = random.Next(text.Length + 1);
        return (text.Insert(at, text.Substring(start, length)), $"copy {length} chars from {start} to {at}");
    }

    private static (string, string) SwapLines(string text, Random random)
    {
        var lines = text.Split('\n');
        int a = random.Next(lines.Length), b = random.Next(lines.Length);
        (lines[a], lines[b]) = (lines[b], lines[a]);
        return (string.Join('\n', lines), $"swap lines {a + 1} and {b + 1}");
    }

    private static (string, string) ReplaceToken(string text, Random random)
    {
        var tokens = TokenPattern().Matches(text);
        var victim = tokens[random.Next(tokens.Count)];
        string replacement = random.Next(3) == 0 ? tokens[random.Next(tokens.Count)].Value : Words[random.Next(Words.Length)];
        return (text.Remove(victim.Index, victim.Length).Insert(victim.Index, replacement),
            $"replace '{victim.Value}' at {victim.Index} with '{replacement}'");
    }

    private static (string, string) InsertBytes(string text, Random random)
    {
        int at = random.Next(text.Length + 1);
        var bytes = new StringBuilder();
        int count = 1 + random.Next(6);
        // Control characters, NUL, non-ASCII letters, a lone surrogate's replacement and high code points.
        string[] pool = ["\0", "\u0001", "\u001b", "\u007f", "é", "λ", "€", "\uFFFD", "𝟘", "\r", "\u00a0", "\u2028"];
        for (int i = 0; i < count; i++) bytes.Append(random.Next(2) == 0 ? pool[random.Next(pool.Length)] : ((char)random.Next(32, 127)).ToString());
        return (text.Insert(at, bytes.ToString()), $"insert {Escape(bytes.ToString())} at {at}");
    }

    private static (string, string) EdgeNumber(string text, Random random)
    {
        var numbers = NumberPattern().Matches(text);
        if (numbers.Count == 0) return ReplaceToken(text, random);
        var victim = numbers[random.Next(numbers.Count)];
        string edge = EdgeNumbers[random.Next(EdgeNumbers.Length)];
        return (text.Remove(victim.Index, victim.Length).Insert(victim.Index, edge), $"number '{victim.Value}' at {victim.Index} -> {edge}");
    }

    private static (string, string) Truncate(string text, Random random)
    {
        int at = random.Next(text.Length);
        return (text[..at], $"cut at {at}");
    }

    public static string Escape(string text)
    {
        var sb = new StringBuilder();
        foreach (char c in text) sb.Append(c < 32 || c == 127 ? $"\\x{(int)c:x2}" : c.ToString());
        return sb.ToString();
    }
}

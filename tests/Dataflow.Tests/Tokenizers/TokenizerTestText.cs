using System.Text;

namespace Dataflow.Tests.Tokenizers;

/// <summary>Text made up by the tests themselves (tests never read shared data).</summary>
internal static class TokenizerTestText
{
    /// <summary>Strings that stress byte-level round trips: multi-byte UTF-8, surrogate pairs, combining marks, control whitespace.</summary>
    public static readonly string[] Awkward =
    [
        "",
        "hello world",
        "héllo wörld — 你好 👋",
        "日本語のテキスト、中文文本，한국어 텍스트",
        "e\u0301 a\u0308 n\u0303 (combining marks) Z\u0351\u0308\u0315a\u0300l\u0334g\u031Bo",
        "emoji: 👨‍👩‍👧‍👦 🇫🇷 🏳️‍🌈 😀😃😄 \U0001F9D1\U0001F3FD‍\U0001F680",
        "line one\nline two\r\n\ttabbed\n\n\n   trailing spaces   \n",
        "math ∑∫√∞ ≠ ≤ ≥, numbers 1234567890 ١٢٣ ⅫⅣ, symbols <|>@#$%^&*()",
        "it's we're they've I'm you'll he'd 'quoted' \"double\"",
        "\u0000\u0001\u001F\u007F nul and control bytes \u200B zero width \uFEFF bom",
        "𠀀𠀁 supplementary CJK, 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 math letters",
    ];

    /// <summary>
    /// Deterministic pseudo-English with some non-ASCII words, long enough that a few hundred merges
    /// are available to a BPE trainer.
    /// </summary>
    public static string Corpus(int words, int seed = 7)
    {
        string[] syllables = ["the", "an", "ing", "er", "qu", "ck", "st", "ou", "ly", "ed", "pr", "é", "ö", "ñ", "中", "文", "on", "re", "th", "sh"];
        var rng = new Random(seed);
        var sb = new StringBuilder();
        for (int w = 0; w < words; w++)
        {
            int parts = 1 + rng.Next(3);
            for (int p = 0; p < parts; p++) sb.Append(syllables[rng.Next(syllables.Length)]);
            int r = rng.Next(20);
            sb.Append(r switch { 0 => ". ", 1 => ", ", 2 => "\n", 3 => " " + rng.Next(1000) + " ", _ => " " });
        }
        return sb.ToString();
    }
}

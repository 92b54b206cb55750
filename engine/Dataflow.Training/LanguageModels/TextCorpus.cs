using Dataflow.Engine.Data;
using Dataflow.Engine.Tokenizers;

namespace Dataflow.Training;

/// <summary>
/// A text file encoded once and split as nanoGPT's prepare.py does: the first 90% of the tokens
/// train, the last 10% validate (a contiguous tail, so validation text was never seen in training).
/// </summary>
public sealed record TextCorpus(int[] Train, int[] Validation)
{
    public const double TrainFraction = 0.9;

    /// <summary>The text of <paramref name="path"/>, refused unless it is valid UTF-8 without NUL bytes (<see cref="TextValidation"/>).</summary>
    public static string Read(string path)
    {
        try { return TextValidation.DecodeUtf8(File.ReadAllBytes(path), $"--text {path}"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            var reason = e is FileNotFoundException or DirectoryNotFoundException ? "no such file" : e.Message;
            throw new DataException($"--text {path}: cannot read the training text: {reason}", e);
        }
    }

    public static TextCorpus Encode(string text, ITokenizer tokenizer, string path)
    {
        var tokens = tokenizer.Encode(text);
        int cut = (int)(tokens.Length * TrainFraction);
        if (tokens.Length < 20)
            throw new DataException($"--text {path}: {tokens.Length} tokens is too little text to train and validate on");
        return new TextCorpus(tokens[..cut], tokens[cut..]);
    }
}

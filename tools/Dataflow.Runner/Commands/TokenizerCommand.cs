using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Dataflow.Engine.Data;
using Dataflow.Engine.Tokenizers;

namespace Dataflow.Runner.Commands;

/// <summary>
/// `dataflow tokenizer train|encode|decode`: train a BPE vocabulary from a text file and try
/// tokenizers by hand. Output goes to the invocation's writers so tests can capture it; bad input
/// is a TokenizerException, which the program maps to exit code 1.
/// </summary>
public static class TokenizerCommand
{
    public static Command Create()
    {
        var command = new Command("tokenizer", "Train, apply and inspect tokenizers");
        command.Subcommands.Add(CreateTrain());
        command.Subcommands.Add(CreateEncode());
        command.Subcommands.Add(CreateDecode());
        return command;
    }

    private static Command CreateTrain()
    {
        var text = new Option<string>("--text") { Description = "UTF-8 text file to learn from", Required = true };
        var vocab = new Option<int>("--vocab") { Description = "Vocabulary size, special tokens included", Required = true };
        var output = new Option<string>("--out") { Description = "Directory for vocab.json and merges.txt", Required = true };
        var command = new Command("train", "Train a byte-level BPE tokenizer (GPT-2 format)") { text, vocab, output };
        command.SetAction(parseResult =>
        {
            var log = parseResult.InvocationConfiguration.Error;
            string trainingText = ReadText(parseResult.GetValue(text)!);
            int vocabSize = parseResult.GetValue(vocab);
            var clock = Stopwatch.StartNew();
            int lastPercent = -1;
            var tokenizer = BpeTrainer.Train(trainingText, vocabSize, progress: (done, total) =>
            {
                int percent = total == 0 ? 100 : done * 100 / total;
                if (percent / 10 == lastPercent / 10) return;
                lastPercent = percent;
                log.WriteLine($"merges {done}/{total} ({percent}%) {clock.Elapsed.TotalSeconds:F1}s");
            });
            string directory = parseResult.GetValue(output)!;
            tokenizer.Save(directory);
            parseResult.InvocationConfiguration.Output.WriteLine(
                $"trained vocab {tokenizer.VocabSize} ({tokenizer.Merges.Count} merges) on {trainingText.Length} chars in {clock.Elapsed.TotalSeconds:F1}s -> {directory}");
            return 0;
        });
        return command;
    }

    private static Command CreateEncode()
    {
        var spec = TokenizerOption();
        var text = new Option<string>("--text") { Description = "Text to encode" };
        var file = new Option<string>("--file") { Description = "UTF-8 file to encode" };
        var command = new Command("encode", "Print the token ids of a text, space separated") { spec, text, file };
        command.SetAction(parseResult =>
        {
            string? inline = parseResult.GetValue(text);
            string? path = parseResult.GetValue(file);
            if ((inline is null) == (path is null))
                throw new TokenizerException("encode needs exactly one of --text STRING or --file FILE");
            var tokenizer = TokenizerFactory.Create(parseResult.GetValue(spec)!, null);
            int[] ids = tokenizer.Encode(inline ?? ReadText(path!));
            parseResult.InvocationConfiguration.Output.WriteLine(string.Join(' ', ids));
            return 0;
        });
        return command;
    }

    private static Command CreateDecode()
    {
        var spec = TokenizerOption();
        var ids = new Option<string>("--ids") { Description = "Token ids separated by spaces or commas, e.g. \"1 2 3\"", Required = true };
        var command = new Command("decode", "Print the text of a sequence of token ids") { spec, ids };
        command.SetAction(parseResult =>
        {
            var tokenizer = TokenizerFactory.Create(parseResult.GetValue(spec)!, null);
            int[] parsed = ParseIds(parseResult.GetValue(ids)!);
            parseResult.InvocationConfiguration.Output.WriteLine(tokenizer.Decode(parsed));
            return 0;
        });
        return command;
    }

    private static Option<string> TokenizerOption() => new("--tokenizer")
    {
        Description = "cl100k_base, o200k_base, gpt2, or a directory holding vocab.json and merges.txt",
        Required = true,
    };

    private static int[] ParseIds(string text)
    {
        string[] parts = text.Split([' ', ',', '\t', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries);
        var ids = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out ids[i]))
                throw new TokenizerException($"--ids: '{parts[i]}' (item {i + 1}) is not an integer token id");
        }
        return ids;
    }

    private static string ReadText(string path) => TextValidation.ReadUtf8File(path);
}

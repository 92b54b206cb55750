using System.Security.Cryptography;
using Dataflow.Tests.Runner;
using Dataflow.Tests.Support;

namespace Dataflow.Tests.Fuzz;

/// <summary>
/// Seeded mutations of the flags of every verb: values pushed to the edges (0, −1, NaN, 1e30,
/// 2^63, empty, words), values dropped, flags removed, doubled or unknown, malformed <c>--set</c>,
/// paths to files that are missing, empty, binary or of the wrong kind. Each case must end with
/// exit 0 or 1, no stack trace, within its time limit; a training run that fails must leave the
/// checkpoint it was pointed at byte for byte as it was.
/// </summary>
public sealed class FlagFuzzTests : IClassFixture<FlagFuzzTests.Files>
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(90);

    /// <summary>What the base invocations need: a small text, a checkpoint of a tiny GPT trained on it, odd files.</summary>
    public sealed class Files : IDisposable
    {
        public TempDirectory Dir { get; } = new();
        public string Text => Dir.File("tiny.txt");
        public string Good => Dir.File("good.ckpt");
        public byte[] GoodBytes { get; }

        public Files()
        {
            File.WriteAllText(Text, string.Concat(Enumerable.Repeat("First Citizen:\nBefore we proceed any further, hear me speak.\n", 20)));
            File.WriteAllBytes(Dir.File("binary.bin"), [0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 0xff, 0xfe, 0xc3, 0x28, 10]);
            File.WriteAllText(Dir.File("empty.txt"), "");
            Directory.CreateDirectory(Dir.File("folder"));
            var trained = RunnerProcess.Run(["train", RunnerProcess.Model("gpt.dfg"), "--text", Text, .. TinyGpt, "--steps", "2", "--checkpoint", Good]);
            Assert.True(trained.ExitCode == 0, trained.ToString());
            GoodBytes = File.ReadAllBytes(Good);
        }

        public void Dispose() => Dir.Dispose();
    }

    private static readonly string[] TinyGpt =
        ["--set", "layers=1", "--set", "d=16", "--set", "heads=2", "--set", "ctx=8", "--set", "dropout=0", "--batch", "2", "--eval-iters", "1"];

    /// <summary>
    /// One valid, quick invocation per verb. TEXT, GOOD, CKPT, OUT, MODEL:x stand for paths made per case.
    /// </summary>
    private static readonly string[][] Invocations =
    [
        ["train", "MODEL:gpt.dfg", "--text", "TEXT", .. TinyGpt, "--steps", "2", "--lr", "0.001", "--min-lr", "0.0001", "--warmup", "1", "--eval-interval", "1", "--checkpoint", "CKPT"],
        ["train", "MODEL:gpt.dfg", "--text", "TEXT", .. TinyGpt, "--steps", "2", "--tokenizer", "bpe:270", "--seed", "3", "--checkpoint", "CKPT"],
        ["train", "MODEL:transformer.dfg", "--task", "reverse", "--preset", "tiny", "--steps", "2", "--batch", "4", "--eval-per-length", "1", "--min-length", "3", "--max-length", "5", "--warmup", "1", "--checkpoint", "CKPT"],
        ["train", "MODEL:mlp-3b1b.dfg", "--data", "fashion-mnist", "--epochs", "1", "--batch", "3000", "--lr", "3", "--checkpoint", "CKPT"],
        ["eval", "MODEL:gpt.dfg", "--checkpoint", "GOOD", "--text", "TEXT", "--json"],
        ["generate", "--checkpoint", "GOOD", "--prompt", "First", "--max-tokens", "4", "--temperature", "0.8", "--top-k", "3", "--top-p", "0.9", "--seed", "2"],
        ["generate", "--checkpoint", "GOOD", "--prompt", "", "--max-tokens", "3", "--temperature", "0"],
        ["inspect", "MODEL:gpt.dfg", "--preset", "shakespeare-char", "--set", "layers=2", "--json"],
        ["inspect", "MODEL:mlp.dfg", "--set", "hidden=64"],
        ["inspect", "GOOD", "--json"],
        ["tokenizer", "train", "--text", "TEXT", "--vocab", "280", "--out", "OUT"],
        ["tokenizer", "encode", "--tokenizer", "gpt2", "--text", "hello world"],
        ["tokenizer", "decode", "--tokenizer", "cl100k_base", "--ids", "15339 1917"],
        ["bench", "matmul", "--seconds", "0.01", "--json"],
        ["bench", "mlp-train", "--steps", "1", "--rounds", "1", "--fused-only", "--top", "1", "--batch", "8"],
        ["devices", "--json"],
        ["conformance", "--op", "add", "--backend", "cpu", "--json"],
    ];

    private static readonly string[] EdgeValues = ["0", "-1", "nan", "NaN", "1e30", "-1e30", "inf", "9223372036854775808", "", " ", "abc", "-0", "1e-30", "0.5", "1,5", "2147483647", "-2147483648"];

    /// <summary>Flags whose large values mean a long but legitimate run: they get every edge but 2^31 − 1.</summary>
    private static readonly HashSet<string> WorkFlags = ["--steps", "--epochs", "--max-tokens", "--eval-iters", "--rounds", "--seconds", "--eval-per-length", "--warmup", "--eval-interval"];

    private static readonly string[] SetValues = ["", "=", "a=", "=3", "layers=nan", "d=0", "heads=-1", "ctx=2147483647", "layers=1000000", "vocab=1e30", "nosuch=1", "d=17", "dropout=2", "dropout=-1", "layers=1.5"];

    private readonly Files files;

    public FlagFuzzTests(Files files) => this.files = files;

    private sealed record Case(int Index, string[] Args, string Mutation, string? Checkpoint);

    [Fact]
    public void MutatedFlagsEndInExitZeroOrOneWithoutAStackTraceAndKeepTheCheckpoint()
    {
        int seed = FuzzVerdict.Seed(11);
        int count = FuzzVerdict.CaseCount(90);
        var random = new Random(seed);
        var cases = new List<Case>();
        for (int i = 0; i < count; i++)
        {
            var template = Invocations[i % Invocations.Length].ToList();
            var (args, mutation) = Mutate(template, random);
            cases.Add(Materialise(i, args, mutation));
        }

        var faults = FuzzVerdict.RunAll(cases, c =>
        {
            var outcome = FuzzVerdict.Run(c.Args, Limit, files.Dir.Path);
            var fault = FuzzVerdict.Fault(outcome, Limit);
            if (fault is null && outcome.ExitCode != 0 && c.Checkpoint is not null && File.Exists(c.Checkpoint) &&
                !SHA256.HashData(File.ReadAllBytes(c.Checkpoint)).AsSpan().SequenceEqual(SHA256.HashData(files.GoodBytes)))
                fault = "the run failed and the good checkpoint it was pointed at changed";
            return fault is null ? null
                : $"case {c.Index} ({ModelMutator.Escape(c.Mutation)}): dataflow {string.Join(' ', c.Args.Select(Quote))}: {fault}\n" +
                  $"  stderr: {ModelFileFuzzTests.Trim(outcome.Stderr)}";
        });
        Assert.True(faults.Count == 0, $"{faults.Count} of {cases.Count} flag mutations (seed {seed}) ended badly:\n" + string.Join("\n", faults.Take(25)));
    }

    private static string Quote(string arg) => arg.Length == 0 || arg.Contains(' ') ? $"'{arg}'" : ModelMutator.Escape(arg);

    private static (List<string> Args, string Mutation) Mutate(List<string> args, Random random)
    {
        var flags = Enumerable.Range(0, args.Count).Where(i => args[i].StartsWith("--", StringComparison.Ordinal)).ToList();
        var valued = flags.Where(i => i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal)).ToList();
        var paths = Enumerable.Range(0, args.Count).Where(i => args[i] is "TEXT" or "GOOD" or "OUT" || args[i].StartsWith("MODEL:", StringComparison.Ordinal)).ToList();
        switch (random.Next(8))
        {
            case 0 or 1 when valued.Count > 0:
            {
                int at = valued[random.Next(valued.Count)];
                var pool = WorkFlags.Contains(args[at]) ? EdgeValues.Where(v => v != "2147483647").ToArray() : EdgeValues;
                string value = args[at] == "--set" ? SetValues[random.Next(SetValues.Length)] : pool[random.Next(pool.Length)];
                string before = args[at + 1];
                args[at + 1] = value;
                return (args, $"{args[at]} {before} -> '{value}'");
            }
            case 2 when valued.Count > 0:
            {
                int at = valued[random.Next(valued.Count)];
                string flag = args[at];
                args.RemoveAt(at + 1);
                return (args, $"drop the value of {flag}");
            }
            case 3 when flags.Count > 0:
            {
                int at = flags[random.Next(flags.Count)];
                string flag = args[at];
                bool hasValue = at + 1 < args.Count && !args[at + 1].StartsWith("--", StringComparison.Ordinal);
                args.RemoveRange(at, hasValue ? 2 : 1);
                return (args, $"remove {flag}");
            }
            case 4 when valued.Count > 0:
            {
                int at = valued[random.Next(valued.Count)];
                var pool = WorkFlags.Contains(args[at]) ? EdgeValues.Where(v => v != "2147483647").ToArray() : EdgeValues;
                string value = pool[random.Next(pool.Length)];
                args.AddRange([args[at], value]);
                return (args, $"repeat {args[at]} with '{value}'");
            }
            case 5:
                args.AddRange(random.Next(2) == 0 ? ["--set", SetValues[random.Next(SetValues.Length)]] : ["--bogus", "3"]);
                return (args, $"append {args[^2]} '{args[^1]}'");
            case 6 when paths.Count > 0:
            {
                int at = paths[random.Next(paths.Count)];
                string before = args[at];
                // An output folder is never pointed at the shared good files, which other cases read.
                string[] replacements = before == "OUT" ? ["MISSING", "BINARY", "EMPTY"] : ["MISSING", "FOLDER", "BINARY", "EMPTY", "MODEL:gpt.dfg", "TEXT", "GOOD"];
                args[at] = replacements[random.Next(replacements.Length)];
                return (args, $"path {before} -> {args[at]}");
            }
            default:
            {
                // A trailing option without its value.
                if (valued.Count > 0 && valued[^1] == args.Count - 2) { args.RemoveAt(args.Count - 1); return (args, "cut the last value"); }
                args.Add(flags.Count > 0 ? args[flags[random.Next(flags.Count)]] : "--help");
                return (args, $"trailing {args[^1]}");
            }
        }
    }

    /// <summary>Turns placeholders into real paths; a training case gets its own copy of the good checkpoint.</summary>
    private Case Materialise(int index, List<string> args, string mutation)
    {
        string? checkpoint = null;
        var real = args.Select(a => a switch
        {
            "TEXT" => files.Text,
            "GOOD" => files.Good,
            "OUT" => files.Dir.File($"tokenizer{index:D4}"),
            "MISSING" => files.Dir.File("no-such-file"),
            "FOLDER" => files.Dir.File("folder"),
            "BINARY" => files.Dir.File("binary.bin"),
            "EMPTY" => files.Dir.File("empty.txt"),
            "CKPT" => checkpoint = CopyOfGood(index),
            _ when a.StartsWith("MODEL:", StringComparison.Ordinal) => RunnerProcess.Model(a["MODEL:".Length..]),
            _ => a,
        }).ToArray();
        return new Case(index, real, mutation, checkpoint);
    }

    private string CopyOfGood(int index)
    {
        var path = files.Dir.File($"case{index:D4}.ckpt");
        File.WriteAllBytes(path, files.GoodBytes);
        return path;
    }
}

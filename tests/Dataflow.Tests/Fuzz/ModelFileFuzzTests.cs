using Dataflow.Tests.Support;

namespace Dataflow.Tests.Fuzz;

/// <summary>
/// Seeded mutations of every model in graph/models, loaded by <c>inspect</c> (text and JSON) the
/// way a user with a damaged file would: each must end with exit 0 or 1, no stack trace, and
/// quickly, since nothing is trained.
/// </summary>
public sealed class ModelFileFuzzTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(20);

    private sealed record Case(int Index, string ModelFile, string Mutation, string Path, bool Json);

    [Fact]
    public void MutatedModelFilesEndInExitZeroOrOneWithoutAStackTrace()
    {
        int seed = FuzzVerdict.Seed(8);
        int count = FuzzVerdict.CaseCount(160);
        var models = Directory.GetFiles(Dsl.DslTestSupport.ModelsDirectory, "*.dfg").OrderBy(p => p, StringComparer.Ordinal).ToArray();
        Assert.NotEmpty(models);
        using var dir = new TempDirectory();
        var random = new Random(seed);
        var cases = new List<Case>();
        for (int i = 0; i < count; i++)
        {
            var model = models[i % models.Length];
            var (text, mutation) = ModelMutator.Mutate(File.ReadAllText(model), random);
            // Some mutations are applied twice: real damage seldom comes alone.
            if (random.Next(4) == 0) { var again = ModelMutator.Mutate(text, random); text = again.Text; mutation += "; " + again.Mutation; }
            var path = dir.File($"case{i:D4}-{System.IO.Path.GetFileName(model)}");
            File.WriteAllText(path, text);
            cases.Add(new Case(i, System.IO.Path.GetFileName(model), mutation, path, random.Next(2) == 0));
        }

        var faults = FuzzVerdict.RunAll(cases, c =>
        {
            string[] args = c.Json ? ["inspect", c.Path, "--json"] : ["inspect", c.Path];
            var outcome = FuzzVerdict.Run(args, Limit, dir.Path);
            var fault = FuzzVerdict.Fault(outcome, Limit);
            return fault is null ? null
                : $"case {c.Index} ({c.ModelFile}: {ModelMutator.Escape(c.Mutation)}), {string.Join(' ', args.Select(a => a == c.Path ? "MUTANT" : a))}: {fault}\n" +
                  $"  stderr: {Trim(outcome.Stderr)}";
        });
        Assert.True(faults.Count == 0,
            $"{faults.Count} of {cases.Count} mutated model files (seed {seed}) ended badly:\n" + string.Join("\n", faults.Take(20)));
    }

    internal static string Trim(string text)
    {
        text = text.ReplaceLineEndings(" | ");
        return text.Length <= 400 ? text : text[..400] + " …";
    }
}

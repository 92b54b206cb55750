using Dataflow.Runner.Cli;

namespace Dataflow.Runner.Tasks;

/// <summary>Resolves <c>--task NAME</c>.</summary>
public static class TransductionTasks
{
    public static readonly string[] Names = ["reverse", "sort"];

    public static ITransductionTask Create(string name, int minLength = 5, int maxLength = 20) => name.ToLowerInvariant() switch
    {
        "reverse" => new ReverseTask(minLength, maxLength),
        "sort" => new SortTask(minLength, maxLength),
        _ => throw new UsageException($"--task {name}: unknown task (known: {string.Join(", ", Names)})"),
    };
}

using Dataflow.Engine;

namespace Dataflow.Training.Tasks;

/// <summary>Resolves <c>--task NAME</c>.</summary>
public static class TransductionTasks
{
    public static readonly string[] Names = ["reverse", "sort"];

    public static ITransductionTask Create(string name, int minLength = 5, int maxLength = 20)
    {
        if (minLength < 1 || maxLength < minLength)
            throw new ConfigurationException($"source lengths must satisfy 1 <= min <= max, got {minLength}..{maxLength}");
        return name.ToLowerInvariant() switch
        {
            "reverse" => new ReverseTask(minLength, maxLength),
            "sort" => new SortTask(minLength, maxLength),
            _ => throw new ConfigurationException($"--task {name}: unknown task (known: {string.Join(", ", Names)})"),
        };
    }
}

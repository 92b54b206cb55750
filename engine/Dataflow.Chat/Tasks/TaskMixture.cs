namespace Dataflow.Chat.Tasks;

/// <summary>Draws problems from several tasks at fixed relative weights.</summary>
public sealed class TaskMixture
{
    private readonly IChatTask[] _tasks;
    private readonly double[] _cumulative;

    public TaskMixture(IEnumerable<(IChatTask Task, double Weight)> tasks)
    {
        var list = tasks.Where(t => t.Weight > 0).ToList();
        if (list.Count == 0) throw new ArgumentException("a mixture needs at least one task with a positive weight", nameof(tasks));
        _tasks = [.. list.Select(t => t.Task)];
        _cumulative = new double[list.Count];
        double sum = 0;
        for (int i = 0; i < list.Count; i++) _cumulative[i] = sum += list[i].Weight;
    }

    /// <summary>The synthetic mixture of <see cref="ChatTasks.Mixture"/>.</summary>
    public static TaskMixture Synthetic(Func<WordList> words) => new(ChatTasks.Mixture.Select(m => (ChatTasks.Create(m.Task, words), m.Weight)));

    public IReadOnlyList<IChatTask> Tasks => _tasks;

    public IChatTask Pick(Random random)
    {
        double x = random.NextDouble() * _cumulative[^1];
        int i = Array.FindIndex(_cumulative, c => x < c);
        return _tasks[i < 0 ? ^1 : i];
    }

    public ChatProblem Next(Random random, DataSplit split) => Pick(random).Make(random, split);
}

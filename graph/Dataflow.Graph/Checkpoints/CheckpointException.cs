namespace Dataflow.Graph.Checkpoints;

/// <summary>
/// A checkpoint could not be read, written or used. User-facing: the message is "path: problem" and
/// never a serializer's internals, so the runner can print it as is.
/// </summary>
public sealed class CheckpointException : Exception
{
    public CheckpointException(string path, string problem, Exception? inner = null)
        : base($"{path}: {problem}", inner)
    {
        FilePath = path;
        Problem = problem;
    }

    public string FilePath { get; }
    public string Problem { get; }
}

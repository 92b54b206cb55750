namespace Dataflow.Graph.Checkpoints;

/// <summary>
/// What a checkpoint is and where it came from. <see cref="Format"/> and <see cref="Version"/> must be
/// <see cref="CheckpointFormat.Name"/> and <see cref="CheckpointFormat.Version"/> when writing; the
/// reader fills them from the file.
/// </summary>
/// <param name="LayoutHash">See <see cref="ParameterLayout.Hash"/>: tells at a glance whether two files hold the same model shape.</param>
/// <param name="Config">--set values, model settings, optimizer name, epoch and the like, as text.</param>
public sealed record CheckpointHeader(
    string Format,
    int Version,
    string GraphName,
    string LayoutHash,
    long Step,
    DateTimeOffset Created,
    IReadOnlyDictionary<string, string> Config)
{
    /// <summary>A header in the format this build writes.</summary>
    public static CheckpointHeader Create(string graphName, string layoutHash, long step, DateTimeOffset created,
        IReadOnlyDictionary<string, string> config) =>
        new(CheckpointFormat.Name, CheckpointFormat.Version, graphName, layoutHash, step, created, config);
}

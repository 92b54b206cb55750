using System.Text.Json.Nodes;

namespace Dataflow.Training;

/// <summary>
/// The metrics log (<c>train --log run.jsonl</c>): one JSON object per line, flushed as it is
/// written so a killed run keeps what it logged. A step is
/// <c>{"event":"step","step":1,"loss":2.3,"lr":0.001,"examples_per_second":…,"tokens_per_second":…}</c>
/// (tokens only where the batch counts them, and the batch source's own metrics, such as an RL step's
/// mean reward, after them); an evaluation is
/// <c>{"event":"eval","step":…,"train_loss":…,"val_loss":…,"lr":…,"seconds":…}</c> plus the evaluator's metrics.
/// A value that is not finite is written as null.
/// </summary>
public sealed class JsonlMetricsObserver : ITrainingObserver, IDisposable
{
    private readonly TextWriter _writer;
    private readonly bool _owns;

    public JsonlMetricsObserver(TextWriter writer) => _writer = writer;

    /// <summary>Creates (or replaces) the file at <paramref name="path"/>.</summary>
    public JsonlMetricsObserver(string path)
    {
        try { _writer = new StreamWriter(path, append: false); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new Engine.ConfigurationException($"--log {path}: cannot write the metrics log: {e.Message}", e);
        }
        _owns = true;
    }

    public void OnStep(StepReport step)
    {
        var line = new JsonObject
        {
            ["event"] = "step", ["step"] = step.Step, ["loss"] = Number(step.Loss), ["lr"] = Number(step.LearningRate),
            ["examples"] = step.Examples, ["examples_per_second"] = Number(step.ExamplesPerSecond),
        };
        if (step.Tokens > 0) (line["tokens"], line["tokens_per_second"]) = (step.Tokens, Number(step.TokensPerSecond));
        foreach (var (name, value) in step.Metrics) line[name] = Number(value);
        Write(line);
    }

    public void OnEvaluation(EvaluationReport report)
    {
        var line = new JsonObject
        {
            ["event"] = "eval", ["step"] = report.Step, ["train_loss"] = Number(report.TrainLoss), ["val_loss"] = Number(report.Evaluation.Loss),
            ["lr"] = Number(report.LearningRate), ["seconds"] = Number(report.ElapsedSeconds),
        };
        foreach (var (name, value) in report.Evaluation.Metrics) line[name] = Number(value);
        Write(line);
    }

    private void Write(JsonObject line)
    {
        _writer.WriteLine(line.ToJsonString());
        _writer.Flush();
    }

    private static JsonNode? Number(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;

    public void Dispose()
    {
        if (_owns) _writer.Dispose();
    }
}

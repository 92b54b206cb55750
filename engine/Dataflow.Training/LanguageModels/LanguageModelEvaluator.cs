using System.Globalization;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Compile;
using Dataflow.Engine.Data;
using Dataflow.Engine.Sessions;
using Dataflow.Engine.Tokenizers;
using Dataflow.Graph.Checkpoints;
using Dataflow.Graph.Ir;
using Dataflow.Engine;

namespace Dataflow.Training;

/// <summary>The loss of a language model over a whole split, and how many tokens it predicted.</summary>
public sealed record LanguageModelMetrics(double Loss, long Tokens, int Windows)
{
    public double Perplexity => Math.Exp(Loss);

    /// <summary>Something the caller may want to tell a person (the model file given is not the one the checkpoint stores).</summary>
    public string? Note { get; init; }
}

/// <summary>
/// The exact validation loss of a language model: the validation split cut into consecutive,
/// non-overlapping windows of the context length, every window scored once. Training estimates the
/// same quantity from a few random windows (nanoGPT's estimate_loss); this is the number to compare
/// runs by, since it has no sampling noise.
/// </summary>
public sealed class LanguageModelEvaluator(ComputeGraph evalGraph, LanguageModelInputs inputs, int[] tokens, int context, int batch) : IEvaluator
{
    private readonly StepGraph _inference = StepGraph.ForwardOnly(evalGraph);

    /// <summary>For the trainer's final report: the whole split's loss, with a line that says so.</summary>
    public Evaluation Evaluate(Session session)
    {
        var m = Evaluate(session, _inference, inputs, tokens, context, batch);
        return new Evaluation(m.Loss, [Evaluation.Metric("val_loss", m.Loss), Evaluation.Metric("perplexity", m.Perplexity)])
        {
            Detail = string.Create(CultureInfo.InvariantCulture,
                $"validation loss over the whole split: {m.Loss:F4} ({m.Tokens} tokens in {m.Windows} windows; perplexity {m.Perplexity:F2})"),
        };
    }

    /// <summary>
    /// The eval verb's entry: the checkpoint carries the model text, its settings and the tokenizer, so
    /// those are what runs; a <paramref name="modelPath"/> whose text differs gets a <see cref="LanguageModelMetrics.Note"/>.
    /// With <paramref name="adapterPath"/>, the model is the checkpoint plus that LoRA adapter (trained on it).
    /// </summary>
    /// <param name="options">Compile options of the evaluation session (its weight storage, for one).</param>
    public static LanguageModelMetrics EvaluateCheckpoint(string modelPath, string checkpointPath, string textPath, IBackend backend, string? adapterPath = null, CompileOptions? options = null)
    {
        var stored = LanguageModelCheckpoint.Read(checkpointPath, adapterPath);
        var (checkpoint, config, tokenizer) = (stored.Checkpoint, stored.Config, stored.Tokenizer);
        string? note = File.Exists(modelPath) && File.ReadAllText(modelPath) != config.ModelSource
            ? $"note: {modelPath} is not the model text stored in {checkpointPath}; evaluating the stored one ({config.ModelFile})"
            : null;
        var corpus = TextCorpus.Encode(TextCorpus.Read(textPath), tokenizer, textPath);
        var model = config.Load(training: false);
        using var session = new Session(backend, seed: 0, options);
        stored.LoadInto(session, model.Graph);
        int batch = int.TryParse(checkpoint.Header.Config.GetValueOrDefault("batch"), out var b) && b > 0 ? b : 12;
        return Evaluate(session, StepGraph.ForwardOnly(model.Graph), LanguageModelInputs.Of(model.Graph), corpus.Validation, config.Context, batch) with { Note = note };
    }

    /// <summary>Scores every full window of <paramref name="tokens"/>, <paramref name="batch"/> windows per run (the last run takes the rest).</summary>
    public static LanguageModelMetrics Evaluate(Session session, StepGraph inference, LanguageModelInputs inputs, int[] tokens, int context, int batch)
    {
        int windows = (tokens.Length - 1) / context;
        if (windows == 0)
            throw new DataException($"the validation split holds {tokens.Length} tokens, too few for one window of {context} plus a target");
        double sum = 0;
        for (int first = 0; first < windows; first += batch)
        {
            int rows = Math.Min(batch, windows - first);
            var x = new int[rows * context];
            var y = new int[rows * context];
            for (int r = 0; r < rows; r++)
            {
                int start = (first + r) * context;
                tokens.AsSpan(start, context).CopyTo(x.AsSpan(r * context));
                tokens.AsSpan(start + 1, context).CopyTo(y.AsSpan(r * context));
            }
            var graph = session.Compile(inference, inputs.Bindings(rows, context));
            var fed = new Dictionary<string, Array> { [inputs.Tokens] = x, [inputs.Targets] = y };
            // The loss is a mean over the run's rows × context tokens; weigh it by its rows.
            sum += session.Run(graph, fed, [StepGraph.LossOutput]).Results[StepGraph.LossOutput][0] * rows;
        }
        return new LanguageModelMetrics(sum / windows, (long)windows * context, windows);
    }
}

using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Dataflow.Backends;
using Dataflow.Chat;
using Dataflow.Chat.Tasks;
using Dataflow.Generation;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Compile;
using Dataflow.Engine.Data;
using Dataflow.Graph.Dsl;
using Dataflow.Runner.Cli;
using Dataflow.Training;

namespace Dataflow.Runner.Commands;

/// <summary>
/// <c>dataflow eval MODEL --checkpoint PATH</c> with <c>--data fashion-mnist</c> (test loss, accuracy and the confusion
/// matrix), <c>--text FILE</c> (a language model's exact validation loss) or neither (an encoder–decoder's task).
/// </summary>
public static class EvalCommand
{
    public static Command Create()
    {
        var model = new Argument<string?>("model") { Description = "The .dfg model file (not with --chat-task: the checkpoint carries it)", Arity = ArgumentArity.ZeroOrOne };
        var checkpoint = new Option<string>("--checkpoint") { Description = "Checkpoint to evaluate", Required = true };
        var data = new Option<string?>("--data") { Description = "Dataset: fashion-mnist (its test set)" };
        var text = new Option<string?>("--text") { Description = "Language model: the exact loss over the validation split (last 10%) of this text; the model, settings and tokenizer come from the checkpoint" };
        var adapter = new Option<string?>("--adapter") { Description = "With --text or --chat-task: a LoRA adapter trained on --checkpoint, applied on top of it" };
        var task = new Option<string?>("--task") { Description = "Encoder–decoder task (reverse | sort): exact match on held-out sequences; defaults to the checkpoint's" };
        var chatTask = new Option<string?>("--chat-task") { Description = $"Chat model: held-out accuracy of generated replies on a chat task ({string.Join(" | ", ChatTasks.Names)})" };
        var count = new Option<int>("--count") { Description = "With --chat-task: held-out problems to generate replies for", DefaultValueFactory = _ => ChatEvaluation.DefaultCount };
        var seed = CommonOptions.Seed();
        var (preset, set, json, backend) = (CommonOptions.Preset(), CommonOptions.Set(), CommonOptions.Json(), CommonOptions.Backend());
        var weights = CommonOptions.Weights();
        weights.Description += "; with --text or --chat-task";
        var command = new Command("eval", "Evaluate a trained model on a test set") { model, checkpoint, data, text, adapter, task, chatTask, count, seed, preset, set, json, backend, weights };
        command.SetAction(r =>
        {
            var options = new CompileOptions { Weights = CommonOptions.ParseWeights(r.GetValue(weights)) };
            if (options.Weights != WeightStorage.F32 && r.GetValue(chatTask) is null && r.GetValue(text) is null)
                throw new UsageException($"--weights {r.GetValue(weights)}: only language models (--text, --chat-task) run with bf16 weights");
            if (r.GetValue(chatTask) is { } chatTaskName)
            {
                if (r.GetValue(model) is not null || r.GetValue(data) is not null || r.GetValue(text) is not null || r.GetValue(task) is not null)
                    throw new UsageException("--chat-task takes only --checkpoint (and --adapter): the model, settings and tokenizer come from the checkpoint");
                if (r.GetValue(count) < 1) throw new UsageException($"--count {r.GetValue(count)}: must be at least 1");
                return EvaluateChatTask(r.GetValue(checkpoint)!, r.GetValue(adapter), chatTaskName, r.GetValue(count), r.GetValue(seed), r.GetValue(backend)!, r.GetValue(json), options);
            }
            if (r.GetValue(model) is null) throw new UsageException("eval needs the model file (or --chat-task with a chat checkpoint)");
            if (r.GetValue(data) is not null && r.GetValue(text) is not null) throw new UsageException("eval takes --data or --text, not both");
            if (r.GetValue(adapter) is not null && r.GetValue(text) is null) throw new UsageException("--adapter is for language models: use it with --text");
            if (r.GetValue(text) is { } textPath)
                return EvaluateText(r.GetValue(model)!, r.GetValue(checkpoint)!, textPath, r.GetValue(adapter), r.GetValue(preset), r.GetValue(set) ?? [], r.GetValue(backend)!, r.GetValue(json), options);
            if (r.GetValue(data) is null)
                return EvaluateTask(r.GetValue(model)!, r.GetValue(checkpoint)!, r.GetValue(task), r.GetValue(preset), r.GetValue(set) ?? [], r.GetValue(backend)!, r.GetValue(json));
            var metrics = Evaluate(r.GetValue(model)!, r.GetValue(checkpoint)!, r.GetValue(data)!, r.GetValue(preset), r.GetValue(set) ?? [], r.GetValue(backend)!);
            var output = r.GetValue(json) ? Console.Error : Console.Out;
            Print(metrics, output);
            if (r.GetValue(json))
                Console.WriteLine(new JsonObject { ["loss"] = metrics.Loss, ["accuracy"] = metrics.Accuracy, ["count"] = metrics.Count }.ToJsonString());
            return ExitCodes.Ok;
        });
        return command;
    }

    private static int EvaluateChatTask(string checkpoint, string? adapter, string taskName, int count, int seed, string backend, bool json, CompileOptions options)
    {
        var clock = Stopwatch.StartNew();
        var task = ChatTasks.Create(taskName, () => WordList.Load());
        var model = CheckpointModel.Open(checkpoint, BackendCatalog.Create(backend), options: options, adapterPath: adapter);
        ChatTaskScore score;
        try
        {
            using var generation = new ChatGeneration(model.Session, model.Config, new ChatTokens(model.Tokenizer), slots: Math.Min(count, 32));
            score = ChatEvaluation.Score(generation, task, count, seed);
        }
        finally { model.Session.Dispose(); }
        var output = json ? Console.Error : Console.Out;
        foreach (var (question, reply, correct) in score.Samples)
            output.WriteLine($"  {(correct ? "ok  " : "FAIL")} {question} -> {ChatReply.Readable(reply).Trim()}");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"chat task {score.Summary}; {clock.Elapsed.TotalSeconds:F1} s"));
        if (json)
            Console.WriteLine(new JsonObject
            {
                ["task"] = score.Task, ["accuracy"] = score.Accuracy, ["n"] = score.Count, ["correct"] = score.Correct, ["seconds"] = clock.Elapsed.TotalSeconds,
            }.ToJsonString());
        return ExitCodes.Ok;
    }

    private static int EvaluateTask(string model, string checkpoint, string? task, string? preset, string[] overrides, string backend, bool json)
    {
        var loaded = ModelLoader.Load(model, CommonOptions.ModelOptions(preset, overrides, training: false));
        var metrics = Seq2SeqEvaluator.EvaluateCheckpoint(loaded, checkpoint, task, BackendCatalog.Create(backend));
        var output = json ? Console.Error : Console.Out;
        output.WriteLine($"task {metrics.Task}: exact match {metrics.ExactMatch:F4}, token accuracy {metrics.TokenAccuracy:F4}, loss {metrics.Loss:F4} ({metrics.Count} held-out sequences)");
        output.WriteLine("per length: " + metrics.FormatPerLength());
        if (json)
            Console.WriteLine(new JsonObject
            {
                ["task"] = metrics.Task, ["exact_match"] = metrics.ExactMatch, ["accuracy"] = metrics.ExactMatch,
                ["token_accuracy"] = metrics.TokenAccuracy, ["loss"] = metrics.Loss, ["count"] = metrics.Count,
            }.ToJsonString());
        return ExitCodes.Ok;
    }

    private static int EvaluateText(string model, string checkpoint, string text, string? adapter, string? preset, string[] overrides, string backend, bool json, CompileOptions options)
    {
        if (preset is not null || overrides.Length > 0)
            throw new UsageException("with --text the preset and settings come from the checkpoint; drop --preset and --set");
        var metrics = LanguageModelEvaluator.EvaluateCheckpoint(model, checkpoint, text, BackendCatalog.Create(backend), adapter, options);
        if (metrics.Note is { } note) Console.Error.WriteLine(note);
        var output = json ? Console.Error : Console.Out;
        output.WriteLine($"validation loss {metrics.Loss:F4}  perplexity {metrics.Perplexity:F2}  ({metrics.Tokens} tokens in {metrics.Windows} windows)");
        if (json)
            Console.WriteLine(new JsonObject { ["loss"] = metrics.Loss, ["perplexity"] = metrics.Perplexity, ["tokens"] = metrics.Tokens }.ToJsonString());
        return ExitCodes.Ok;
    }

    public static ClassifierMetrics Evaluate(string modelPath, string checkpointPath, string data, string? preset, string[] overrides, string backend) =>
        ClassifierEvaluator.EvaluateCheckpoint(ModelLoader.Load(modelPath, CommonOptions.ModelOptions(preset, overrides, training: false)), checkpointPath, data,
            BackendCatalog.Create(backend));

    public static void Print(ClassifierMetrics metrics, TextWriter output)
    {
        output.WriteLine($"test loss {metrics.Loss:F4}  accuracy {metrics.Accuracy:F4}  ({metrics.Count} images)");
        output.WriteLine();
        output.WriteLine("confusion matrix (rows: true class, columns: predicted)");
        var names = FashionMnist.ClassNames;
        output.Write($"{"",-12}");
        for (int c = 0; c < names.Count; c++) output.Write($"{c,6}");
        output.WriteLine();
        for (int r = 0; r < names.Count; r++)
        {
            output.Write($"{r} {Truncate(names[r], 10),-10}");
            for (int c = 0; c < names.Count; c++) output.Write($"{metrics.Confusion[r, c],6}");
            output.WriteLine();
        }
    }

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..length];
}

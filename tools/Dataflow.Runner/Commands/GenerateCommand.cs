using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Dataflow.Backends;
using Dataflow.Engine.Compile;
using Dataflow.Generation;
using Dataflow.Runner.Cli;

namespace Dataflow.Runner.Commands;

/// <summary>
/// <c>dataflow generate --checkpoint PATH --prompt TEXT</c>: streams a language model's continuations
/// to stdout in request order, many sequences decoded together (continuous batching, key/value caches
/// on the device). The checkpoint is all it needs.
/// </summary>
public static class GenerateCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "A checkpoint written by train --text", Required = true };
        var adapter = new Option<string?>("--adapter") { Description = "A LoRA adapter trained on --checkpoint, applied on top of it" };
        var prompt = new Option<string>("--prompt") { Description = "Text to continue; empty starts from <|endoftext|> where the tokenizer has it", DefaultValueFactory = _ => "" };
        var prompts = new Option<string?>("--prompts") { Description = "A file of prompts, one per line (blank lines skipped), instead of --prompt" };
        var numSamples = new Option<int>("--num-samples") { Description = "Continuations of each prompt (sample i uses seed --seed + i)", DefaultValueFactory = _ => 1 };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Tokens to generate per sequence", DefaultValueFactory = _ => 200 };
        var stop = new Option<string[]>("--stop") { Description = "End a sequence once its text contains this (repeatable; the stop text is kept)" };
        var temperature = new Option<double>("--temperature") { Description = "Divide the logits by this; 0 is greedy (deterministic)", DefaultValueFactory = _ => 0.8 };
        var topK = new Option<int>("--top-k") { Description = "Sample from the K most likely tokens only; 0 is off", DefaultValueFactory = _ => 0 };
        var topP = new Option<double>("--top-p") { Description = "Nucleus sampling: the smallest set of tokens whose probability reaches P, in (0, 1]", DefaultValueFactory = _ => 1.0 };
        var batch = new Option<int>("--batch") { Description = "Sequences decoded together (cache slots); 0: all of them, up to 16", DefaultValueFactory = _ => 0 };
        var (seed, backend, verbose, noFusion, json) = (CommonOptions.Seed(), CommonOptions.Backend(), CommonOptions.GenerationVerbose(), CommonOptions.NoFusion(), CommonOptions.Json());
        var (weights, kvCache) = (CommonOptions.Weights(), CommonOptions.KvCache());
        var command = new Command("generate", "Generate text from a language-model checkpoint")
        {
            checkpoint, adapter, prompt, prompts, numSamples, maxTokens, stop, temperature, topK, topP, batch, seed, backend, weights, kvCache, verbose, noFusion, json,
        };
        command.SetAction(r =>
        {
            if (r.GetValue(prompts) is not null && !string.IsNullOrEmpty(r.GetValue(prompt)))
                throw new UsageException("give --prompt or --prompts, not both");
            var settings = new GenerationSettings
            {
                CheckpointPath = r.GetValue(checkpoint)!,
                AdapterPath = r.GetValue(adapter),
                Prompt = r.GetValue(prompt) ?? "",
                Prompts = r.GetValue(prompts) is { } file ? PromptFile.Read(file) : null,
                NumSamples = r.GetValue(numSamples),
                MaxTokens = r.GetValue(maxTokens),
                StopStrings = r.GetValue(stop) ?? [],
                Sampling = new SamplingOptions(r.GetValue(temperature), r.GetValue(topK), r.GetValue(topP)),
                Seed = r.GetValue(seed),
                Batch = r.GetValue(batch),
                CompileOptions = new CompileOptions { Fusion = !r.GetValue(noFusion), Weights = CommonOptions.ParseWeights(r.GetValue(weights)) },
                Cache = CommonOptions.ParseKvCache(r.GetValue(kvCache)),
            };
            var output = r.InvocationConfiguration.Output;
            var report = BatchGeneration.Run(settings, BackendCatalog.Create(r.GetValue(backend)!), r.GetValue(json) ? null : output);
            if (r.GetValue(json)) output.WriteLine(Json(report).ToJsonString());
            if (r.GetValue(verbose) >= 1)
                r.InvocationConfiguration.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{report.Sequences.Count} sequences, batch {report.Batch}: {report.GeneratedTokens} tokens in {report.Total.TotalSeconds:F2} s ({report.TokensPerSecond:F1} tokens/s)"));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static JsonObject Json(GenerationReport report) => new()
    {
        ["sequences"] = new JsonArray([.. report.Sequences.Select(s => (JsonNode)new JsonObject
        {
            ["index"] = s.Result.Request,
            ["prompt"] = s.Prompt,
            ["text"] = s.Result.Text,
            ["prompt_tokens"] = s.Result.PromptTokens,
            ["generated_tokens"] = s.Result.GeneratedTokens,
            ["finish_reason"] = s.Result.Reason switch { FinishReason.StopToken => "stop_token", FinishReason.StopString => "stop", _ => "length" },
            ["time_to_first_token_ms"] = s.Result.TimeToFirstToken.TotalMilliseconds,
            ["total_ms"] = s.Result.Total.TotalMilliseconds,
        })]),
        ["batch"] = report.Batch,
        ["generated_tokens"] = report.GeneratedTokens,
        ["total_ms"] = report.Total.TotalMilliseconds,
        ["tokens_per_s"] = report.TokensPerSecond,
    };
}

using System.CommandLine;
using System.Globalization;
using Dataflow.Backends;
using Dataflow.Engine.Compile;
using Dataflow.Generation;
using Dataflow.Runner.Cli;

namespace Dataflow.Runner.Commands;

/// <summary>
/// <c>dataflow generate --checkpoint PATH --prompt TEXT</c>: streams a language model's continuation
/// of the prompt to stdout, token by token, using a key/value cache. The checkpoint is all it needs.
/// </summary>
public static class GenerateCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "A checkpoint written by train --text", Required = true };
        var prompt = new Option<string>("--prompt") { Description = "Text to continue; empty starts from <|endoftext|> where the tokenizer has it", DefaultValueFactory = _ => "" };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Tokens to generate", DefaultValueFactory = _ => 200 };
        var temperature = new Option<double>("--temperature") { Description = "Divide the logits by this; 0 is greedy (deterministic)", DefaultValueFactory = _ => 0.8 };
        var topK = new Option<int>("--top-k") { Description = "Sample from the K most likely tokens only; 0 is off", DefaultValueFactory = _ => 0 };
        var topP = new Option<double>("--top-p") { Description = "Nucleus sampling: the smallest set of tokens whose probability reaches P, in (0, 1]", DefaultValueFactory = _ => 1.0 };
        var (seed, backend, verbose, noFusion) = (CommonOptions.Seed(), CommonOptions.Backend(), CommonOptions.Verbose(), CommonOptions.NoFusion());
        var command = new Command("generate", "Generate text from a language-model checkpoint")
        {
            checkpoint, prompt, maxTokens, temperature, topK, topP, seed, backend, verbose, noFusion,
        };
        command.SetAction(r =>
        {
            var settings = new GenerationSettings
            {
                CheckpointPath = r.GetValue(checkpoint)!,
                Prompt = r.GetValue(prompt) ?? "",
                MaxTokens = r.GetValue(maxTokens),
                Sampling = new SamplingOptions(r.GetValue(temperature), r.GetValue(topK), r.GetValue(topP)),
                Seed = r.GetValue(seed),
                CompileOptions = new CompileOptions { Fusion = !r.GetValue(noFusion) },
            };
            if (settings.MaxTokens < 0) throw new UsageException($"--max-tokens {settings.MaxTokens}: must not be negative");
            var stats = TextGenerator.Run(settings, BackendCatalog.Create(r.GetValue(backend)!), r.InvocationConfiguration.Output);
            if (r.GetValue(verbose) >= 1)
                r.InvocationConfiguration.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"prefill {stats.PromptTokens} tokens in {stats.Prefill.TotalMilliseconds:F1} ms; {stats.GeneratedTokens} tokens in {stats.Total.TotalSeconds:F2} s ({stats.MillisecondsPerToken:F2} ms/token)"));
            return ExitCodes.Ok;
        });
        return command;
    }
}

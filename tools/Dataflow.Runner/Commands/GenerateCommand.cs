using System.CommandLine;
using Dataflow.Engine.Compile;
using Dataflow.Runner.Cli;
using Dataflow.Runner.Generation;

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
                Backend = r.GetValue(backend)!,
                Verbose = r.GetValue(verbose),
                CompileOptions = new CompileOptions { Fusion = !r.GetValue(noFusion) },
            };
            TextGenerator.Run(settings, r.InvocationConfiguration.Output, r.InvocationConfiguration.Error);
            return ExitCodes.Ok;
        });
        return command;
    }
}

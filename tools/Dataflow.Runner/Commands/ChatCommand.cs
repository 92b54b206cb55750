using System.CommandLine;
using Dataflow.Backends;
using Dataflow.Chat;
using Dataflow.Engine.Compile;
using Dataflow.Generation;
using Dataflow.Runner.Cli;

namespace Dataflow.Runner.Commands;

/// <summary>
/// <c>dataflow chat --checkpoint C</c>: a conversation with a fine-tuned model, its replies streamed as
/// they are generated (calculator calls shown as <c>[calc 12*34 = 408]</c>). <c>--once "question"</c>
/// prints one reply and exits; when stdin is not a terminal each line read is one user message and
/// each reply one line out. <c>/reset</c> forgets the conversation, <c>/exit</c> (or end of input) ends it.
/// </summary>
public static class ChatCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "A chat model's checkpoint (written by sft)", Required = true };
        var adapter = new Option<string?>("--adapter") { Description = "A LoRA adapter trained on --checkpoint (sft --lora), applied on top of it" };
        var system = new Option<string?>("--system") { Description = "A system message that starts every conversation" };
        var once = new Option<string?>("--once") { Description = "Answer this one message, print the reply and exit (for scripts)" };
        var temperature = new Option<double>("--temperature") { Description = "Divide the logits by this; 0 is greedy (deterministic)", DefaultValueFactory = _ => 0 };
        var topK = new Option<int>("--top-k") { Description = "Sample from the K most likely tokens only; 0 is off", DefaultValueFactory = _ => 0 };
        var maxTokens = new Option<int>("--max-tokens") { Description = "The longest reply, in tokens (tool outputs not counted)", DefaultValueFactory = _ => ChatGeneration.DefaultMaxReply };
        var (seed, backend, weights) = (CommonOptions.Seed(), CommonOptions.Backend(), CommonOptions.Weights());
        var command = new Command("chat", "Chat with a fine-tuned model") { checkpoint, adapter, system, once, temperature, topK, maxTokens, seed, backend, weights };
        command.SetAction(r =>
        {
            var sampling = new SamplingOptions(r.GetValue(temperature), r.GetValue(topK)).Validated();
            var options = new CompileOptions { Weights = CommonOptions.ParseWeights(r.GetValue(weights)), DecodeCopies = true };
            var model = CheckpointModel.Open(r.GetValue(checkpoint)!, BackendCatalog.Create(r.GetValue(backend)!), options: options, adapterPath: r.GetValue(adapter));
            try
            {
                using var generation = new ChatGeneration(model.Session, model.Config, new ChatTokens(model.Tokenizer), slots: 1);
                var chat = new ChatSession(generation, r.GetValue(system));
                var output = r.InvocationConfiguration.Output;
                var sink = new ConsoleSink(output);
                ulong seedValue = (ulong)r.GetValue(seed);
                if (r.GetValue(once) is { } message)
                {
                    chat.Reply(message, sampling, seedValue, sink, r.GetValue(maxTokens));
                    output.WriteLine();
                    return ExitCodes.Ok;
                }
                bool terminal = !Console.IsInputRedirected;
                if (terminal) Console.Error.WriteLine("chat: type a message; /reset forgets the conversation, /exit ends it");
                while (true)
                {
                    if (terminal) { output.Write("> "); output.Flush(); }
                    string? line = Console.In.ReadLine();
                    if (line is null || line.Trim() == "/exit") break;
                    if (line.Trim().Length == 0) continue;
                    if (line.Trim() == "/reset")
                    {
                        chat.Reset();
                        if (terminal) Console.Error.WriteLine("(conversation reset)");
                        continue;
                    }
                    chat.Reply(line, sampling, seedValue, sink, r.GetValue(maxTokens));
                    output.WriteLine();
                    if (chat.Trimmed && terminal) Console.Error.WriteLine("(the oldest turns were dropped to fit the context)");
                }
                return ExitCodes.Ok;
            }
            finally
            {
                model.Session.Dispose();
            }
        });
        return command;
    }

    /// <summary>Streams each piece of the reply as it is generated, tool markers made readable.</summary>
    private sealed class ConsoleSink(TextWriter output) : IGenerationSink
    {
        public void OnText(int request, string piece)
        {
            output.Write(ChatReply.Readable(piece));
            output.Flush();
        }

        public void OnFinished(GenerationResult result) { }
    }
}

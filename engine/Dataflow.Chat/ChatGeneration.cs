using Dataflow.Chat.Tools;
using Dataflow.Engine.Sessions;
using Dataflow.Generation;
using Dataflow.Graph.Dsl;
using Dataflow.Training;

namespace Dataflow.Chat;

/// <summary>
/// A <see cref="Generator"/> for assistant turns over a session that holds a chat model's weights
/// (an opened checkpoint's, or a training session's), and the request that generates one turn:
/// greedy or sampled, stopping at the assistant's end token, with the calculator answering its calls.
/// </summary>
public sealed class ChatGeneration : IDisposable
{
    /// <summary>The longest assistant turn generated (its tool outputs not counted).</summary>
    public const int DefaultMaxReply = 96;

    /// <param name="decodeModel">Lowers the model in decode mode (cache length, slots); the checkpoint config's by default.</param>
    public ChatGeneration(Session session, LanguageModelConfig config, ChatTokens tokens, int slots, Func<int, int?, LoadedModel>? decodeModel = null)
    {
        Tokens = tokens;
        Renderer = new ChatRenderer(tokens);
        Calculator = new CalculatorTool(tokens);
        var load = decodeModel ?? ((length, perRow) => config.Load(training: false, length, perRow));
        Generator = new Generator(new BatchDecoder(session, load, slots, config.Context, Math.Min(32, config.Context)), tokens.Tokenizer);
    }

    /// <summary>Opens a chat model's checkpoint (<see cref="CheckpointModel.Open"/>) for <paramref name="slots"/> sequences at once.</summary>
    public static (CheckpointModel Model, ChatGeneration Generation) Open(CheckpointModel model, int slots)
    {
        var tokens = new ChatTokens(model.Tokenizer);
        return (model, new ChatGeneration(model.Session, model.Config, tokens, slots));
    }

    public Generator Generator { get; }
    public ChatTokens Tokens { get; }
    public ChatRenderer Renderer { get; }
    public CalculatorTool Calculator { get; }
    public int Context => Generator.Context;

    /// <summary>The request for the assistant's next turn after <paramref name="prompt"/> (which ends in its start token).</summary>
    public GenerationRequest Turn(int[] prompt, SamplingOptions sampling, ulong seed, int maxReply = DefaultMaxReply, IGenerationSink? sink = null) =>
        new(prompt)
        {
            MaxTokens = Math.Max(1, Math.Min(maxReply, Context - prompt.Length)),
            Sampling = sampling,
            Seed = seed,
            StopTokens = [Tokens.AssistantEnd, Tokens.Bos, Tokens.UserStart, Tokens.Pad],
            Tools = Calculator,
            Sink = sink,
        };

    public void Dispose() => Generator.Dispose();
}

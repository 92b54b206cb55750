using Dataflow.Engine;
using Dataflow.Engine.Tokenizers;
using Dataflow.Generation;

namespace Dataflow.Chat;

/// <summary>
/// A multi-turn conversation with a chat model: the history is kept as the tokens the model saw
/// (its own turns exactly as generated, tool calls and outputs included), each user message is
/// appended as a user turn, and the assistant's reply is generated and streamed to a sink. When the
/// history would leave no room for a reply, the oldest turns are dropped (the system message stays).
/// </summary>
public sealed class ChatSession(ChatGeneration generation, string? system = null)
{
    private readonly List<int> _history = [];
    private int _preamble;
    private ulong _turns;

    /// <summary>The tokens the next turn's prompt starts with.</summary>
    public IReadOnlyList<int> History => _history;

    /// <summary>Whether the last reply dropped older turns to fit the context.</summary>
    public bool Trimmed { get; private set; }

    /// <summary>Forgets the conversation (the system message stays).</summary>
    public void Reset()
    {
        _history.Clear();
        _history.AddRange(generation.Renderer.RenderPrompt(system is null ? [] : [ChatMessage.System(system)])[..^1]);
        _preamble = _history.Count;
    }

    /// <summary>The assistant's reply to <paramref name="message"/>, streamed to <paramref name="sink"/> as it is generated.</summary>
    public GenerationResult Reply(string message, SamplingOptions sampling, ulong seed, IGenerationSink? sink = null, int maxReply = ChatGeneration.DefaultMaxReply)
    {
        if (_history.Count == 0) Reset();
        var t = generation.Tokens;
        int[] user;
        try { user = [t.UserStart, .. t.Tokenizer.Encode(message), t.UserEnd, t.AssistantStart]; }
        catch (TokenizerException e) { throw new ConfigurationException($"your message cannot be written in the model's vocabulary: {e.Message}", e); }
        int room = Math.Min(maxReply, generation.Context / 4);
        Trimmed = false;
        while (_history.Count + user.Length + room > generation.Context && _history.Count > _preamble)
        {
            DropOldestTurn();
            Trimmed = true;
        }
        if (_history.Count + user.Length + 1 > generation.Context)
            throw new ConfigurationException($"the message is {user.Length - 3} tokens; with the system message it leaves no room for a reply in the model's context of {generation.Context} tokens");
        _history.AddRange(user);
        var request = generation.Turn([.. _history], sampling, seed + _turns++, maxReply, sink);
        generation.Generator.Submit(request);
        var result = generation.Generator.Run()[^1];
        _history.AddRange(result.Tokens);
        _history.Add(t.AssistantEnd);
        return result;
    }

    /// <summary>Removes the first user turn after the preamble and everything up to the next one.</summary>
    private void DropOldestTurn()
    {
        int next = _history.IndexOf(generation.Tokens.UserStart, _preamble + 1);
        _history.RemoveRange(_preamble, (next < 0 ? _history.Count : next) - _preamble);
    }
}

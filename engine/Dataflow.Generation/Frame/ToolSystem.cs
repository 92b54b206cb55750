using Dataflow.Engine.Ecs;

namespace Dataflow.Generation.Frame;

/// <summary>
/// Feeds a tool's answer into each sequence whose new token completed a call (<see cref="IToolCalls"/>):
/// the answer's tokens join the history and the stream, and the sequence prefills them from where its
/// cache ends (sliding its window when they would not fit) before it samples again. It acts on the
/// tokens Stream has just marked pending (so after Sample, which appended them); it extends the
/// history in place, which is why TokenHistories is a write here and not a read ordering it.
/// </summary>
internal sealed class ToolSystem : ISystem
{
    private readonly int _length;
    private readonly ForEachWithEntityRef<SequenceSpec, DecodeInput, CacheWindow, PrefillProgress> _answer;
    private ToolCallers _tools = null!;
    private TokenHistories _histories = null!;
    private TextOutputs _outputs = null!;

    public ToolSystem(int cacheLength) => (_length, _answer) = (cacheLength, Answer);

    public string Name => nameof(ToolSystem);

    public SystemAccess Access { get; } = SystemAccess.Of(
        reads: [typeof(DecodeInput), typeof(SequenceSpec)],
        writes: [typeof(DecodeInput), typeof(CacheWindow), typeof(PrefillProgress), typeof(TokenHistories), typeof(TextOutputs), typeof(ToolCallers)]);

    public void Run(World world)
    {
        (_tools, _histories, _outputs) = (world.Resource<ToolCallers>(), world.Resource<TokenHistories>(), world.Resource<TextOutputs>());
        world.ForEachWithEntity(in Sequences.All, _answer);
    }

    private void Answer(Entity entity, ref SequenceSpec spec, ref DecodeInput input, ref CacheWindow window, ref PrefillProgress prefill)
    {
        if (!input.Pending || _tools.Find(entity) is not { } tools) return;
        var history = _histories[entity];
        if (tools.Respond(history, spec.PromptLength) is not { Length: > 0 } answer) return;
        int cached = history.Count - 1 - window.Start;    // all but the sampled token, which was never fed
        history.AddRange(answer);
        var output = _outputs[entity];
        foreach (int token in answer)
        {
            string piece = output.Stream.Push(token);
            if (piece.Length == 0) continue;
            output.Text.Append(piece);
            output.Sink?.OnText(spec.Request, piece);
        }
        int start = SlidingWindow.Start(window.Start, history.Count, _length);
        (prefill.Done, window.Start) = (start == window.Start ? cached : 0, start);
        (prefill.Active, input.Pending) = (true, false);
    }
}

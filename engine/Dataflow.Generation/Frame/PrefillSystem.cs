using System.Runtime.InteropServices;
using Dataflow.Engine.Ecs;

namespace Dataflow.Generation.Frame;

/// <summary>
/// One prefill chunk per prefilling sequence per frame (a long prompt does not stall the batch); a
/// sequence whose window is all in its cache slot has the logits of its next token and starts decoding.
/// </summary>
internal sealed class PrefillSystem(GenerationFrame frame) : ISystem
{
    public string Name => nameof(PrefillSystem);

    public SystemAccess Access { get; } = SystemAccess.Of(writes: [typeof(SequenceState), typeof(SequenceTokens)]);

    public void Run(World world) => world.ForEach(in Sequences.All, (ref SequenceState s, ref SequenceTokens t) =>
    {
        if (s.Phase != SequencePhase.Prefilling) return;
        var window = CollectionsMarshal.AsSpan(t.History)[s.WindowStart..];
        var logits = frame.Decoder.PrefillChunk(s.Slot, window, ref s.PrefillDone);
        if (s.PrefillDone < window.Length) return;
        logits.AsSpan(0, t.Logits.Length).CopyTo(t.Logits);
        (t.Fresh, s.Phase, s.Pending) = (true, SequencePhase.Decoding, false);
    });
}

using Dataflow.Engine.Sessions;
using Dataflow.Graph.Dsl;
using Dataflow.Training;

namespace Dataflow.Generation;

/// <summary>
/// Runs a model lowered in decode mode (<see cref="ModelOptions.CacheLength"/>) for one sequence in
/// cache slot 0: the key/value caches are state tensors the session keeps on the device and the graph
/// updates in place, so a step feeds only the new tokens and their first position and fetches only
/// the logits. One compiled graph per T (a step of T tokens). <see cref="BatchDecoder"/> is the
/// many-sequence form with a fixed prefill chunk.
/// </summary>
public sealed class CachedDecoder
{
    private readonly Session _session;
    private readonly StepGraph _graph;
    private readonly LanguageModelInputs _inputs;
    private readonly string[] _fetch;

    public CachedDecoder(Session session, LoadedModel decodeModel, int cacheLength)
    {
        _session = session;
        CacheLength = cacheLength;
        _inputs = LanguageModelInputs.Of(decodeModel.Graph);
        _graph = StepGraph.ForwardOnly(decodeModel.Graph, includeLoss: false);
        _fetch = [_inputs.Logits];
    }

    public int CacheLength { get; }

    /// <summary>How many positions the caches hold so far.</summary>
    public int Position { get; private set; }

    /// <summary>
    /// Forgets the sequence: the next step starts at position 0. The cache keeps its old rows, but a
    /// query never sees a position after its own, and each position is written before it is read.
    /// </summary>
    public void Reset() => Position = 0;

    /// <summary>Feeds <paramref name="tokens"/> at the next positions; returns the logits [T, vocab] of every one.</summary>
    public float[] Step(int[] tokens)
    {
        if (tokens.Length == 0 || Position + tokens.Length > CacheLength)
            throw new InvalidOperationException($"{tokens.Length} tokens at position {Position} do not fit a cache of {CacheLength}");
        var compiled = _session.Compile(_graph, _inputs.Bindings(1, tokens.Length));
        var fed = new Dictionary<string, Array>(StringComparer.Ordinal) { [_inputs.Tokens] = tokens, [DecodeInputs.Position] = new[] { Position } };
        var results = _session.Run(compiled, fed, _fetch).Results;
        Position += tokens.Length;
        return results[_inputs.Logits];
    }
}

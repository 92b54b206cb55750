using Dataflow.Engine.Sessions;
using Dataflow.Graph.Dsl;
using Dataflow.Training;

namespace Dataflow.Generation;

/// <summary>
/// Runs a model lowered in decode mode (<see cref="ModelOptions.CacheLength"/>) for one sequence:
/// holds every attention layer's key/value cache on the host, feeds it with the new tokens and their
/// first position, and keeps the updated caches the graph returns. A step of T tokens costs T
/// positions of projections and MLPs, never the whole prefix. One compiled graph per T (the prompt's
/// length for the prefill, 1 for each generated token).
/// </summary>
public sealed class CachedDecoder
{
    private readonly Session _session;
    private readonly TrainingGraph _graph;
    private readonly LanguageModelInputs _inputs;
    private readonly Dictionary<string, float[]> _caches = new(StringComparer.Ordinal);
    private readonly string[] _fetch;

    public CachedDecoder(Session session, LoadedModel decodeModel, int cacheLength)
    {
        _session = session;
        CacheLength = cacheLength;
        _inputs = LanguageModelInputs.Of(decodeModel.Graph);
        _graph = TrainingGraph.ForInference(decodeModel.Graph, includeLoss: false);
        foreach (var (name, node) in decodeModel.Graph.Inputs)
            if (DecodeInputs.IsCache(name))
            {
                // The batch axis is bound to 1; every other axis of a cache is fixed.
                long elements = node.Shape.Dims.Skip(1).Aggregate(1L, (a, d) => a * d.Value);
                _caches[name] = new float[elements];
            }
        _fetch = [_inputs.Logits, .. _caches.Keys];
    }

    public int CacheLength { get; }

    /// <summary>How many positions the caches hold so far.</summary>
    public int Position { get; private set; }

    /// <summary>Forgets the sequence: the next step starts at position 0.</summary>
    public void Reset()
    {
        foreach (var cache in _caches.Values) Array.Clear(cache);
        Position = 0;
    }

    /// <summary>Feeds <paramref name="tokens"/> at the next positions; returns the logits [T, vocab] of every one.</summary>
    public float[] Step(int[] tokens)
    {
        if (tokens.Length == 0 || Position + tokens.Length > CacheLength)
            throw new InvalidOperationException($"{tokens.Length} tokens at position {Position} do not fit a cache of {CacheLength}");
        var compiled = _session.Compile(_graph, _inputs.Bindings(1, tokens.Length));
        var fed = new Dictionary<string, Array>(StringComparer.Ordinal) { [_inputs.Tokens] = tokens, [DecodeInputs.Position] = new[] { Position } };
        foreach (var (name, cache) in _caches) fed[name] = cache;
        var results = _session.Run(compiled, fed, _fetch).Results;
        foreach (var name in _caches.Keys.ToArray()) _caches[name] = results[name];
        Position += tokens.Length;
        return results[_inputs.Logits];
    }
}

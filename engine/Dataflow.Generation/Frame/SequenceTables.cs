using System.Text;
using Dataflow.Engine.Ecs;
using Dataflow.Engine.Tokenizers;

namespace Dataflow.Generation.Frame;

/// <summary>
/// A sequence's managed payload, a row per entity id (ids are reused after retirement, so the table
/// stays as large as the most sequences alive at once). Each table is a world resource of its own,
/// declared in the Access of the systems that use it like a component type.
/// </summary>
internal abstract class SequenceTable<T> where T : class
{
    private T?[] _rows = new T?[8];

    public T this[Entity entity] => _rows[entity.Id] ?? throw new InvalidOperationException($"{GetType().Name} has no row for {entity}");

    /// <summary>The row, or null when the sequence has none (a request without tools).</summary>
    public T? Find(Entity entity) => entity.Id < _rows.Length ? _rows[entity.Id] : null;

    public void Set(Entity entity, T? row)
    {
        if (entity.Id >= _rows.Length) Array.Resize(ref _rows, Math.Max(entity.Id + 1, _rows.Length * 2));
        _rows[entity.Id] = row;
    }

    /// <summary>Drops a retired sequence's row, so its payload is not kept alive until the id is reused.</summary>
    public void Release(Entity entity)
    {
        if (entity.Id < _rows.Length) _rows[entity.Id] = null;
    }
}

/// <summary>The prompt and generated tokens (the history the window slides over).</summary>
internal sealed class TokenHistories : SequenceTable<List<int>>;

/// <summary>The sampler (settings and RNG state) and the tokens that stop the sequence.</summary>
internal sealed class Samplers : SequenceTable<SamplerRow>;

internal sealed record SamplerRow(Sampler Sampler, IReadOnlyList<int> StopTokens);

/// <summary>The text so far, the incremental decoder that streams it, where it goes, and the strings that stop it.</summary>
internal sealed class TextOutputs : SequenceTable<TextOutput>;

internal sealed class TextOutput(IGenerationSink? sink, StreamingDecoder stream, IReadOnlyList<string> stopStrings)
{
    public IGenerationSink? Sink { get; } = sink;
    public StreamingDecoder Stream { get; } = stream;
    public IReadOnlyList<string> StopStrings { get; } = stopStrings;
    public StringBuilder Text { get; } = new();
}

/// <summary>The tool each sequence may call (no row: none).</summary>
internal sealed class ToolCallers : SequenceTable<IToolCalls>;

using Dataflow.Engine;
using Dataflow.Graph.Ir;
using Dataflow.Graph.Tensors;

namespace Dataflow.Training;

/// <summary>
/// One rank's shard of every global batch: the inner source (seeded alike on every rank, so it draws
/// the same global batch everywhere and resumes from the same state) gives the whole batch, and this
/// keeps rows [rank·B/N, (rank+1)·B/N) of every input along the batch axis. Shards are equal, so the
/// mean over ranks of each rank's mean loss is the global batch's mean loss and the learning rate
/// means what it means in one process. The step's reported examples and tokens stay the global ones.
/// </summary>
public sealed class ShardedBatches : IBatchSource
{
    private readonly IBatchSource _inner;
    private readonly string _batchSymbol;
    private readonly int _rank, _size;
    private readonly Dictionary<string, Array> _shards = new(StringComparer.Ordinal);
    private IReadOnlyDictionary<string, long>? _innerBindings, _bindings;

    public ShardedBatches(IBatchSource inner, ComputeGraph graph, int rank, int size)
    {
        if (size < 1 || rank < 0 || rank >= size) throw new ArgumentOutOfRangeException(nameof(rank), $"rank {rank} of {size}");
        (_inner, _batchSymbol, _rank, _size) = (inner, BatchSymbol(graph), rank, size);
    }

    /// <summary>The symbol that axis 0 of every input shares (B); a model whose inputs disagree cannot be sharded.</summary>
    public static string BatchSymbol(ComputeGraph graph)
    {
        var symbols = graph.Inputs.Values
            .Select(n => n.Shape.Rank > 0 && n.Shape[0].FreeSymbols.SingleOrDefault() is { } s && n.Shape[0] == Dim.Symbol(s) ? s : null)
            .Distinct().ToList();
        if (symbols.Count == 1 && symbols[0] is { } symbol) return symbol;
        throw new ConfigurationException($"model {graph.Name}: data-parallel training splits every input along its first axis, which must be one batch symbol shared by all; " +
            $"the model declares {string.Join(", ", graph.Inputs.Values.Select(n => $"{n.Attrs.Name} : {n.Type}"))}");
    }

    public TrainingBatch Next()
    {
        var batch = _inner.Next();
        long global = batch.Bindings.TryGetValue(_batchSymbol, out var b) ? b
            : throw new InvalidOperationException($"the batch source binds no '{_batchSymbol}'");
        if (global % _size != 0)
            throw new ConfigurationException($"--batch {global} does not split evenly over {_size} ranks: the global batch must be a multiple of the rank count, so that every rank's mean loss weighs the same");
        long rows = global / _size;
        if (!ReferenceEquals(batch.Bindings, _innerBindings))    // keep one bindings instance per shape, so the step compiles once
        {
            _innerBindings = batch.Bindings;
            _bindings = new Dictionary<string, long>(batch.Bindings) { [_batchSymbol] = rows };
        }
        var inputs = new Dictionary<string, Array>(batch.Inputs.Count, StringComparer.Ordinal);
        foreach (var (name, whole) in batch.Inputs)
        {
            long width = whole.Length / global;
            if (!_shards.TryGetValue(name, out var shard) || shard.Length != rows * width)
                _shards[name] = shard = Array.CreateInstance(whole.GetType().GetElementType()!, rows * width);
            Array.Copy(whole, _rank * rows * width, shard, 0, rows * width);
            inputs[name] = shard;
        }
        return batch with { Bindings = _bindings!, Inputs = inputs };
    }

    public byte[] GetState() => _inner.GetState();
    public void SetState(ReadOnlySpan<byte> state) => _inner.SetState(state);
}

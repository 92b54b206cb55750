using Dataflow.Graph.Ir;
using Dataflow.Graph.Lora;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;

namespace Dataflow.Graph.Dsl;

/// <summary>
/// What a layer's lowering code can use: the graph builder, whether the graph is for training,
/// parameter creation under the current scope's dotted name, and diagnostics.
/// </summary>
public sealed class LowerContext
{
    private readonly SourceText _source;
    private readonly Dictionary<(string Scope, string Name), int> _used = [];

    public LowerContext(SourceText source, GraphBuilder builder, bool training, Func<IEnumerable<string>> visibleNames)
    {
        _source = source;
        Builder = builder;
        Training = training;
        VisibleNames = visibleNames;
    }

    public GraphBuilder Builder { get; }
    public bool Training { get; }

    /// <summary>The adapters to add (<see cref="ModelOptions.Lora"/>); null: none.</summary>
    public LoraConfig? Lora { get; init; }

    /// <summary>The roles of the linears lowered so far (<see cref="LoraTargets"/>), to tell a target that matches nothing.</summary>
    public HashSet<string> LinearRoles { get; } = new(StringComparer.Ordinal);

    /// <summary>Whether some embedding took LoRA's token rows (<see cref="LoraConfig.TokenRows"/>), to tell rows that train nothing.</summary>
    public bool TokenRowsAdapted { get; set; }

    /// <summary>Decode mode: the key/value cache's length in positions; null for ordinary lowering.</summary>
    public int? CacheLength { get; init; }

    /// <summary>Decode mode's slots when each row names its own (<see cref="ModelOptions.CacheSlots"/>); null: row b is slot b.</summary>
    public int? CacheSlots { get; init; }

    /// <summary>Decode mode's cache element type (<see cref="ModelOptions.Cache"/>).</summary>
    public CacheStorage Cache { get; init; }

    private Node? _decodePosition, _decodeSlot;

    /// <summary>
    /// Decode mode's cache row of each token and head, by (heads, tokens): every attention layer of a
    /// model writes the same rows of its own cache, so the index is built once, not once per layer.
    /// </summary>
    internal Dictionary<(Dim Heads, Dim Tokens), Node> CacheRowIndex { get; } = [];

    /// <summary>
    /// The batch axis of decode mode's per-row inputs: that of the token input (the first i32[B, T]
    /// input the model declares), so positions and caches line up with the rows fed.
    /// </summary>
    public Dim DecodeBatch() =>
        Builder.Graph.Inputs.Values.FirstOrDefault(n => n.DType == DType.I32 && n.Shape.Rank == 2 && !n.Attrs.Persistent)?.Shape[0]
        ?? throw new ShapeException("decode mode needs an i32[B, T] token input declared before attention or positions");

    /// <summary>
    /// Decode mode's <c>position : i32[B]</c> input, the position of each row's first token fed;
    /// created on first use so a model without attention or positions does not ask for it.
    /// </summary>
    public Node DecodePosition() =>
        _decodePosition ??= Builder.Input(DecodeInputs.Position, new TensorType(DType.I32, Shape.Of(DecodeBatch())));

    /// <summary>The prefill graph's <c>slot : i32[B]</c> input, the cache slot each row writes and reads.</summary>
    public Node DecodeSlot() =>
        _decodeSlot ??= Builder.Input(DecodeInputs.Slot, new TensorType(DType.I32, Shape.Of(DecodeBatch())));

    /// <summary>The names an identifier could have meant, for "did you mean" hints.</summary>
    public Func<IEnumerable<string>> VisibleNames { get; }

    public DfgException Error(Loc loc, string message) => _source.Error(loc, message);

    /// <summary>
    /// The hint after "unknown name 'x'": where x is defined later in the file when it is, else the
    /// nearest visible name. Set by the lowerer, which knows the file; plain suggestions without it.
    /// </summary>
    public Func<string, Loc, IEnumerable<string>, string> NameHint { get; init; } = (name, _, candidates) => Suggest.Hint(name, candidates);

    public DfgException UnknownName(SymbolValue symbol) =>
        Error(symbol.Loc, $"unknown name '{symbol.Name}'{NameHint(symbol.Name, symbol.Loc, VisibleNames())}");

    /// <summary>
    /// A name not yet used in the current scope: <paramref name="baseName"/> the first time, then
    /// <c>baseName_1</c>, <c>baseName_2</c>, ... Names depend only on program order, so they are stable
    /// across runs and checkpoints can find their tensors.
    /// </summary>
    public string UniqueName(string baseName)
    {
        var key = (Builder.CurrentScope, baseName);
        _used.TryGetValue(key, out var count);
        _used[key] = count + 1;
        return count == 0 ? baseName : $"{baseName}_{count}";
    }

    /// <summary>The dotted name a local name gets in the current scope.</summary>
    public string Qualify(string local) => Builder.CurrentScope.Length == 0 ? local : Builder.CurrentScope + "." + local;

    public Node Parameter(string local, Shape shape, ParamInit init, ParamCategory category) =>
        Builder.Parameter(Qualify(local), shape, init, category);

    /// <summary>
    /// Runs one user-visible layer: inside its own scope, recording a <see cref="LayerInfo"/> with
    /// its output type and the number of parameters it created. Shape and graph errors raised while
    /// lowering become diagnostics at <paramref name="loc"/>.
    /// </summary>
    public Value RunLayer(string kind, string name, Loc loc, Func<Value> lower, long earlierParameters = 0)
    {
        var parent = Builder.CurrentScope;
        int before = Builder.Graph.Parameters.Count;
        Value result;
        using (Builder.Scope(name))
        {
            result = Guard(loc, kind, lower);
            long count = Guard(loc, kind, () =>
            {
                long sum = earlierParameters;
                for (int i = before; i < Builder.Graph.Parameters.Count; i++)
                {
                    var shape = Builder.Graph.Parameters[i].Node.Shape;
                    try { sum = checked(sum + shape.ElementCount()); }
                    catch (OverflowException) { throw new ShapeException($"the parameters of this layer have more than 2^63 - 1 elements in all"); }
                }
                return sum;
            });
            if (result is TensorValue t)
                Builder.Graph.AddLayer(new LayerInfo(Builder.CurrentScope, kind, t.Node.Type, count, parent));
            else if (result is LayerObject layer)
                layer.UnreportedParameters += count;    // reported when it is first applied
        }
        return result;
    }

    /// <summary>Turns the graph's own exceptions into diagnostics at <paramref name="loc"/>, prefixed with what was being done.</summary>
    public T Guard<T>(Loc loc, string what, Func<T> action)
    {
        try
        {
            return action();
        }
        catch (ShapeException e)
        {
            throw Error(loc, e.Message.StartsWith(what + ":", StringComparison.Ordinal) || what.Length == 0 ? e.Message : $"{what}: {e.Message}");
        }
        catch (GraphException e)
        {
            throw Error(loc, what.Length == 0 ? e.Message : $"{what}: {e.Message}");
        }
    }
}

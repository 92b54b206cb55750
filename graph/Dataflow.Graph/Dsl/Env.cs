namespace Dataflow.Graph.Dsl;

/// <summary>Variables visible while lowering: a block's locals chain to the model's globals.</summary>
internal sealed class Env(Env? parent)
{
    private readonly Dictionary<string, Value> _values = new(StringComparer.Ordinal);

    public Env? Parent { get; } = parent;

    public bool TryGet(string name, out Value value)
    {
        for (var env = this; env is not null; env = env.Parent)
            if (env._values.TryGetValue(name, out value!)) return true;
        value = null!;
        return false;
    }

    public void Set(string name, Value value) => _values[name] = value;

    public IEnumerable<string> Names => Parent is null ? _values.Keys : _values.Keys.Concat(Parent.Names);
}

using System.Runtime.InteropServices;

namespace Dataflow.Engine.Components;

/// <summary>
/// The names tags carry (inputs, states, parameters: one interned id each; outputs and gradients:
/// a <see cref="ListRange"/> of names) and the tensors' layers (<see cref="LayerScope"/>). Made by <see cref="Compile.GraphLoadSystem"/>.
/// </summary>
public sealed class NameTable
{
    private readonly List<string> _names = [];
    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
    private readonly List<string> _lists = [];

    public string this[int id] => _names[id];

    /// <summary>The names of <paramref name="list"/>, in the order given (valid until the next <see cref="AddList"/>).</summary>
    public ReadOnlySpan<string> this[ListRange list] => CollectionsMarshal.AsSpan(_lists).Slice(list.Start, list.Count);

    public int Intern(string name)
    {
        if (_ids.TryGetValue(name, out int id)) return id;
        _names.Add(name);
        return _ids[name] = _names.Count - 1;
    }

    public ListRange AddList(IEnumerable<string> names)
    {
        int start = _lists.Count;
        _lists.AddRange(names);
        return new ListRange(start, _lists.Count - start);
    }
}

using System.Numerics;

namespace Dataflow.Engine.Ecs;

/// <summary>
/// An immutable set of component ids: the key of an archetype and the filters of a query.
/// Trailing zero words are trimmed, so equal sets are equal arrays.
/// </summary>
internal readonly struct ComponentMask : IEquatable<ComponentMask>
{
    private readonly ulong[]? _bits;

    private ComponentMask(ulong[]? bits) => _bits = bits;

    public bool IsEmpty => _bits is null;

    public int Count
    {
        get
        {
            int n = 0;
            if (_bits is not null) foreach (ulong w in _bits) n += BitOperations.PopCount(w);
            return n;
        }
    }

    public bool Has(int id)
    {
        int word = id >> 6;
        return _bits is not null && word < _bits.Length && (_bits[word] & (1UL << (id & 63))) != 0;
    }

    public ComponentMask With(int id)
    {
        if (Has(id)) return this;
        int word = id >> 6;
        var bits = new ulong[Math.Max(word + 1, _bits?.Length ?? 0)];
        _bits?.CopyTo(bits, 0);
        bits[word] |= 1UL << (id & 63);
        return new ComponentMask(bits);
    }

    public ComponentMask Without(int id)
    {
        if (!Has(id)) return this;
        var bits = (ulong[])_bits!.Clone();
        bits[id >> 6] &= ~(1UL << (id & 63));
        return new ComponentMask(Trim(bits));
    }

    /// <summary>True when every id of <paramref name="other"/> is in this set.</summary>
    public bool ContainsAll(ComponentMask other)
    {
        if (other._bits is null) return true;
        for (int i = 0; i < other._bits.Length; i++)
        {
            ulong mine = _bits is not null && i < _bits.Length ? _bits[i] : 0;
            if ((other._bits[i] & ~mine) != 0) return false;
        }
        return true;
    }

    public bool Intersects(ComponentMask other)
    {
        if (_bits is null || other._bits is null) return false;
        int n = Math.Min(_bits.Length, other._bits.Length);
        for (int i = 0; i < n; i++) if ((_bits[i] & other._bits[i]) != 0) return true;
        return false;
    }

    /// <summary>The ids in ascending order.</summary>
    public int[] ToIds()
    {
        var ids = new int[Count];
        int k = 0;
        if (_bits is not null)
        {
            for (int i = 0; i < _bits.Length; i++)
            {
                ulong w = _bits[i];
                while (w != 0)
                {
                    ids[k++] = i * 64 + BitOperations.TrailingZeroCount(w);
                    w &= w - 1;
                }
            }
        }
        return ids;
    }

    public string Describe() => "[" + string.Join(", ", ToIds().Select(id => ComponentType.TypeOf(id).Name)) + "]";

    public bool Equals(ComponentMask other) => _bits.AsSpan().SequenceEqual(other._bits.AsSpan());

    public override bool Equals(object? obj) => obj is ComponentMask m && Equals(m);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        if (_bits is not null) foreach (ulong w in _bits) hash.Add(w);
        return hash.ToHashCode();
    }

    private static ulong[]? Trim(ulong[] bits)
    {
        int n = bits.Length;
        while (n > 0 && bits[n - 1] == 0) n--;
        return n == 0 ? null : n == bits.Length ? bits : bits[..n];
    }
}

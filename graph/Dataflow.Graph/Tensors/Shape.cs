using System.Collections;
using System.Collections.Immutable;

namespace Dataflow.Graph.Tensors;

/// <summary>An ordered list of (possibly symbolic) dimensions. Rank 0 is a scalar.</summary>
public sealed class Shape : IEquatable<Shape>, IReadOnlyList<Dim>
{
    public static readonly Shape Scalar = new(ImmutableArray<Dim>.Empty);

    public ImmutableArray<Dim> Dims { get; }

    public Shape(ImmutableArray<Dim> dims) => Dims = dims;
    public Shape(IEnumerable<Dim> dims) => Dims = dims.ToImmutableArray();
    public static Shape Of(params Dim[] dims) => new(dims.ToImmutableArray());
    public static Shape Of(params long[] dims) => new(dims.Select(d => Dim.Const(d)));

    public int Rank => Dims.Length;
    public int Count => Dims.Length;
    public Dim this[int index] => Dims[index];

    /// <summary>Python-style index: -1 is the last axis.</summary>
    public Dim At(int axis) => Dims[NormalizeAxis(axis)];

    public int NormalizeAxis(int axis)
    {
        int normalized = axis < 0 ? axis + Rank : axis;
        if (normalized < 0 || normalized >= Math.Max(Rank, 1) || (Rank == 0))
            throw new ShapeException($"axis {axis} is out of range for a tensor of shape {this}");
        return normalized;
    }

    public bool IsConcrete => Dims.All(d => d.IsConstant);

    /// <summary>Product of all dimensions (symbolic).</summary>
    public Dim Elements => Dims.Aggregate(Dim.Const(1), (acc, d) => acc * d);

    public long[] Evaluate(IReadOnlyDictionary<string, long> bindings) => Dims.Select(d => d.Evaluate(bindings)).ToArray();

    public long[] ToConcrete() => Dims.Select(d => d.Value).ToArray();

    /// <summary>The number of elements of a concrete shape, checked: past 2^63 it is a ShapeException naming the shape.</summary>
    public long ElementCount()
    {
        long count = 1;
        foreach (var d in Dims)
        {
            try { count = checked(count * d.Value); }
            catch (OverflowException) { throw new ShapeException($"a tensor of shape {this} has more than 2^63 - 1 elements"); }
        }
        return count;
    }

    public Shape Replace(int axis, Dim dim) => new(Dims.SetItem(NormalizeAxis(axis), dim));

    /// <summary>NumPy broadcasting of two shapes; null when they are incompatible.</summary>
    public static Shape? TryBroadcast(Shape a, Shape b)
    {
        int rank = Math.Max(a.Rank, b.Rank);
        var dims = new Dim[rank];
        for (int i = 0; i < rank; i++)
        {
            var da = i < rank - a.Rank ? null : a.Dims[i - (rank - a.Rank)];
            var db = i < rank - b.Rank ? null : b.Dims[i - (rank - b.Rank)];
            if (da is null) dims[i] = db!;
            else if (db is null) dims[i] = da;
            else if (da == db) dims[i] = da;
            else if (da.IsConstant && da.Value == 1) dims[i] = db;
            else if (db.IsConstant && db.Value == 1) dims[i] = da;
            else return null;
        }
        return new Shape(dims.ToImmutableArray());
    }

    public bool Equals(Shape? other) => other is not null && Dims.SequenceEqual(other.Dims);
    public override bool Equals(object? obj) => Equals(obj as Shape);
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var d in Dims) hash.Add(d);
        return hash.ToHashCode();
    }

    public IEnumerator<Dim> GetEnumerator() => ((IEnumerable<Dim>)Dims).GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => "[" + string.Join(", ", Dims) + "]";
}

/// <summary>A shape rule was broken; the message names the op and the shapes.</summary>
public sealed class ShapeException(string message) : Exception(message);

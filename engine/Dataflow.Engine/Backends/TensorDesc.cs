using Dataflow.Graph.Tensors;

namespace Dataflow.Engine.Backends;

/// <summary>A tensor with its shape bound to numbers: what a kernel is compiled for.</summary>
public sealed record TensorDesc(DType DType, long[] Shape)
{
    public long Elements => Shape.Aggregate(1L, (a, b) => a * b);
    public int Rank => Shape.Length;
    public override string ToString() => DType.Name() + "[" + string.Join(",", Shape) + "]";
    public bool Equals(TensorDesc? other) => other is not null && DType == other.DType && Shape.AsSpan().SequenceEqual(other.Shape);
    public override int GetHashCode() => HashCode.Combine(DType, Shape.Length, Elements);
}

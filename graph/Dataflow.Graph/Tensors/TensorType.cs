namespace Dataflow.Graph.Tensors;

/// <summary>What is known about a tensor before any data exists: its element type and shape.</summary>
public sealed record TensorType(DType DType, Shape Shape)
{
    public static TensorType F32(params Dim[] dims) => new(DType.F32, Shape.Of(dims));
    public static TensorType I32(params Dim[] dims) => new(DType.I32, Shape.Of(dims));
    public override string ToString() => DType.Name() + Shape;
}

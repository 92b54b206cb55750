using System.Runtime.CompilerServices;
using Dataflow.Engine.Backends;
using Dataflow.Graph.Tensors;

namespace Dataflow.Engine.Components;

/// <summary>The dimensions of a bound shape, stored inline so <see cref="TensorInfo"/> stays unmanaged.</summary>
[InlineArray(TensorInfo.MaxRank)]
public struct Dimensions
{
    private long _first;
}

/// <summary>The tensor with its shape bound to numbers (added by <see cref="Compile.ShapeBindingSystem"/>).</summary>
public struct TensorInfo
{
    /// <summary>The highest rank a bound tensor may have (the models use at most 4: batch, heads, time, width).</summary>
    public const int MaxRank = 8;

    public DType DType;
    public int Rank;
    public long Elements;
    public Dimensions Shape;

    public static TensorInfo Of(TensorDesc desc)
    {
        if (desc.Rank > MaxRank) throw new ArgumentException($"{desc} has rank {desc.Rank}, above the {MaxRank} a tensor may have", nameof(desc));
        var info = new TensorInfo { DType = desc.DType, Rank = desc.Rank, Elements = desc.Elements };
        for (int i = 0; i < desc.Rank; i++) info.Shape[i] = desc.Shape[i];
        return info;
    }

    /// <summary>The shape as a <see cref="TensorDesc"/> (a new object: what kernel specs and messages take).</summary>
    public readonly TensorDesc Desc
    {
        get
        {
            var dims = new long[Rank];
            for (int i = 0; i < Rank; i++) dims[i] = Shape[i];
            return new TensorDesc(DType, dims);
        }
    }

    public readonly bool SameShape(in TensorInfo other)
    {
        if (Rank != other.Rank) return false;
        for (int i = 0; i < Rank; i++) if (Shape[i] != other.Shape[i]) return false;
        return true;
    }
}

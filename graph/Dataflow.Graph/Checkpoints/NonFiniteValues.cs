using System.Buffers.Binary;
using Dataflow.Graph.Tensors;

namespace Dataflow.Graph.Checkpoints;

/// <summary>Where a checkpoint's f32 tensors first hold NaN or ±∞, for refusing to load it.</summary>
public static class NonFiniteValues
{
    /// <summary>The first f32 element (parameters first, then optimizer state) that is not finite, or null.</summary>
    public static (NamedTensor Tensor, long Index, float Value)? First(Checkpoint checkpoint)
    {
        foreach (var tensor in checkpoint.Tensors.Concat(checkpoint.OptimizerState))
            if (First(tensor) is { } found) return (tensor, found.Index, found.Value);
        return null;
    }

    /// <summary>The first element of an f32 tensor that is not finite, or null (always null for other dtypes).</summary>
    public static (long Index, float Value)? First(NamedTensor tensor)
    {
        if (tensor.DType != DType.F32) return null;
        var bytes = tensor.Data.AsSpan();
        for (int i = 0; i + sizeof(float) <= bytes.Length; i += sizeof(float))
        {
            var value = BinaryPrimitives.ReadSingleLittleEndian(bytes[i..]);
            if (!float.IsFinite(value)) return (i / sizeof(float), value);
        }
        return null;
    }

    /// <summary>Throws the refusal for <paramref name="checkpoint"/> unless every value is finite or the options allow it.</summary>
    public static void Check(Checkpoint checkpoint, string path, CheckpointLoadOptions options)
    {
        if (options.AllowNonFinite || First(checkpoint) is not { } bad) return;
        var kind = checkpoint.Tensors.Contains(bad.Tensor) ? "parameter" : "optimizer state";
        throw new CheckpointException(path,
            $"{kind} '{bad.Tensor.Name}' holds {Describe(bad.Value)} at index {bad.Index} (of {bad.Tensor.ElementCount}); " +
            "the run that wrote it diverged. Resume from an earlier checkpoint, or allow non-finite values explicitly to inspect it");
    }

    private static string Describe(float value) => float.IsNaN(value) ? "NaN" : value > 0 ? "+inf" : "-inf";
}

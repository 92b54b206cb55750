using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Dataflow.Graph.Checkpoints;

/// <summary>
/// A short fingerprint of a model's parameters (names and shapes, in order), stored in the header so
/// tools can tell whether a checkpoint fits a model without reading its tensors.
/// </summary>
public static class ParameterLayout
{
    /// <summary>
    /// First 16 lowercase hex digits of a SHA-256 over, per parameter in order: the UTF-8 name's byte
    /// length, the name, the rank, then each dim, all numbers int64 little-endian. Length prefixes
    /// mean no name or dim can pass for a separator. Pinned by a test: changing it orphans old files.
    /// </summary>
    public static string Hash(IEnumerable<(string Name, long[] Shape)> parameters)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> number = stackalloc byte[8];
        foreach (var (name, shape) in parameters)
        {
            byte[] nameBytes = Encoding.UTF8.GetBytes(name);
            AppendInt64(hash, number, nameBytes.Length);
            hash.AppendData(nameBytes);
            AppendInt64(hash, number, shape.Length);
            foreach (long dim in shape) AppendInt64(hash, number, dim);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset())[..16];
    }

    private static void AppendInt64(IncrementalHash hash, Span<byte> scratch, long value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(scratch, value);
        hash.AppendData(scratch);
    }
}

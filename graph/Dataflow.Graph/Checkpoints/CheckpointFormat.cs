using System.Text;

namespace Dataflow.Graph.Checkpoints;

/// <summary>
/// The on-disk layout, in one place so the writer and reader cannot drift apart.
/// A checkpoint is one MessagePack array of <see cref="ElementCount"/> elements:
/// <code>
/// [ "dataflow-checkpoint", version, header map, tensors, optimizer state, rng bin, tokenizer str|nil, sha256 bin ]
/// </code>
/// A tensor is <c>[name, dtype name, [dims...], raw little-endian bin]</c>. The last element is the
/// SHA-256 of every byte before it, so the file ends in a fixed 34-byte trailer (bin8 header + 32 bytes).
/// Putting the name and version first means any MessagePack tool can identify the file, and a later
/// version can change everything after them.
/// </summary>
public static class CheckpointFormat
{
    public const string Name = "dataflow-checkpoint";
    public const int Version = 1;
    public const int ElementCount = 8;
    public const int ChecksumLength = 32;

    /// <summary>bin8 header (0xC4, length) plus the digest.</summary>
    public const int TrailerLength = 2 + ChecksumLength;

    /// <summary>
    /// The bytes every version-1-or-later file starts with after its array header: the format name as
    /// a fixstr. Compared byte by byte so a truncated prefix can be told apart from a foreign file.
    /// </summary>
    internal static readonly byte[] MagicString = BuildMagic();

    internal static class Keys
    {
        public const string Graph = "graph";
        public const string Layout = "layout";
        public const string Step = "step";
        public const string Created = "created";
        public const string Config = "config";
    }

    private static byte[] BuildMagic()
    {
        byte[] name = Encoding.UTF8.GetBytes(Name);
        var magic = new byte[1 + name.Length];
        magic[0] = (byte)(0xA0 | name.Length); // fixstr: the name is under 32 bytes
        name.CopyTo(magic, 1);
        return magic;
    }

    internal static string ShapeText(IReadOnlyList<long> shape) => "[" + string.Join(", ", shape) + "]";
}

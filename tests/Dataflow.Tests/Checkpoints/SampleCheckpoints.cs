using System.Buffers;
using System.Security.Cryptography;
using Dataflow.Graph.Checkpoints;
using MessagePack;

namespace Dataflow.Tests.Checkpoints;

/// <summary>Small checkpoints and hand-built files for the checkpoint tests.</summary>
internal static class SampleCheckpoints
{
    public static readonly DateTimeOffset Created = new(2026, 3, 14, 15, 9, 26, TimeSpan.FromHours(2));

    public static readonly (string Name, long[] Shape)[] MlpLayout =
    [
        ("l1.weight", [4, 3]),
        ("l1.bias", [3]),
    ];

    /// <summary>Loads that keep NaN and ±∞: the format tests round-trip them bit for bit (<see cref="Small"/> holds a NaN).</summary>
    public static readonly CheckpointLoadOptions Raw = new(AllowNonFinite: true);

    public static Checkpoint Small(long step = 42) => new()
    {
        Header = CheckpointHeader.Create("mlp", ParameterLayout.Hash(MlpLayout), step, Created,
            new Dictionary<string, string> { ["lr"] = "0.001", ["optimizer"] = "adam", ["epoch"] = "3" }),
        Tensors =
        [
            NamedTensor.FromFloats("l1.weight", [4, 3], Enumerable.Range(0, 12).Select(i => i * 0.5f - 2f).ToArray()),
            NamedTensor.FromFloats("l1.bias", [3], [0.1f, -0f, float.NaN]),
        ],
        OptimizerState =
        [
            NamedTensor.FromFloats("l1.weight/m", [4, 3], new float[12]),
            NamedTensor.FromInts("t", [], [7]),
        ],
        RngState = [1, 2, 3, 4, 5, 6, 7, 8],
        TokenizerJson = null,
    };

    public delegate void Body(ref MessagePackWriter writer);

    /// <summary>
    /// A file laid out like a checkpoint with a valid checksum, built by hand so tests can reach
    /// checks that lie behind the checksum (version, tensor sizes).
    /// </summary>
    public static byte[] Build(Body body)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        body(ref writer);
        writer.Flush();
        return WithChecksum(buffer.WrittenSpan);
    }

    public static byte[] WithChecksum(ReadOnlySpan<byte> body)
    {
        byte[] digest = SHA256.HashData(body);
        return [.. body, 0xC4, 32, .. digest];
    }

    /// <summary>The array header, format name and version that every checkpoint starts with.</summary>
    public static void WritePrefix(ref MessagePackWriter w, int version)
    {
        w.WriteArrayHeader(CheckpointFormat.ElementCount);
        w.Write(CheckpointFormat.Name);
        w.Write(version);
    }

    /// <summary>A well-formed header section.</summary>
    public static void WriteHeader(ref MessagePackWriter w)
    {
        w.WriteMapHeader(5);
        w.Write("graph"); w.Write("mlp");
        w.Write("layout"); w.Write("0123456789abcdef");
        w.Write("step"); w.Write(1L);
        w.Write("created"); w.Write(Created.ToString("O"));
        w.Write("config"); w.WriteMapHeader(0);
    }
}

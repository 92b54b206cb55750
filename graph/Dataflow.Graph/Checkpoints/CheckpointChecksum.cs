namespace Dataflow.Graph.Checkpoints;

/// <summary>
/// A checkpoint file's identity: the SHA-256 of its body that the writer stores as the file's last 32
/// bytes (<see cref="CheckpointFormat"/>). Reading it costs 34 bytes, not a second hash of the file;
/// a LoRA adapter records its base's, so it cannot be applied to another base.
/// </summary>
public static class CheckpointChecksum
{
    /// <summary>The stored checksum as 64 lowercase hex digits; the file is not verified here (<see cref="CheckpointReader.Load(string)"/> does that).</summary>
    public static string Of(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
            if (stream.Length < CheckpointFormat.TrailerLength) throw new CheckpointException(path, "too short to be a checkpoint (it has no checksum trailer)");
            stream.Seek(-CheckpointFormat.TrailerLength, SeekOrigin.End);
            var trailer = new byte[CheckpointFormat.TrailerLength];
            stream.ReadExactly(trailer);
            if (trailer[0] != 0xC4 || trailer[1] != CheckpointFormat.ChecksumLength) throw new CheckpointException(path, "not a checkpoint (it does not end in a checksum)");
            return Convert.ToHexStringLower(trailer.AsSpan(2));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointException(path, e is FileNotFoundException or DirectoryNotFoundException ? "no such file" : $"cannot read it: {e.Message}", e);
        }
    }
}

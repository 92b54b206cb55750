using System.Security.Cryptography;
using System.Text;

namespace Dataflow.Backends.Vulkan;

/// <summary>
/// Compiled SPIR-V kept in files named by a hash of (compiler identity, source), so it can never be
/// stale: a changed source or compiler is a different name. The folder is
/// <c>$DATAFLOW_SPIRV_CACHE</c>, else <c>$XDG_CACHE_HOME/dataflow/spirv</c> or <c>~/.cache/dataflow/spirv</c>;
/// <c>DATAFLOW_SPIRV_CACHE=off</c> turns it off. Files are written whole (temporary file, then
/// rename), a file that is unreadable or not whole SPIR-V is ignored, and a cache that cannot be
/// written is only slower.
/// </summary>
internal sealed class SpirvDiskCache
{
    public const string Variable = "DATAFLOW_SPIRV_CACHE";
    private const uint SpirvMagic = 0x07230203;

    private readonly string _folder;
    private readonly string _compiler;

    private SpirvDiskCache(string folder, string compiler)
    {
        _folder = folder;
        _compiler = compiler;
    }

    /// <summary>The cache for <paramref name="compiler"/> where <see cref="Variable"/> says, or null when it is turned off or has no folder.</summary>
    public static SpirvDiskCache? Open(string compiler) => At(FolderFor(Environment.GetEnvironmentVariable(Variable)), compiler);

    /// <summary>The folder a setting of <see cref="Variable"/> names: itself, the user's cache folder when unset, null for <c>off</c>.</summary>
    internal static string? FolderFor(string? setting)
    {
        if (string.Equals(setting, "off", StringComparison.OrdinalIgnoreCase)) return null;
        if (!string.IsNullOrEmpty(setting)) return setting;
        string? root = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        if (string.IsNullOrEmpty(root))
        {
            string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            if (string.IsNullOrEmpty(home)) return null;
            root = Path.Combine(home, ".cache");
        }
        return Path.Combine(root, "dataflow", "spirv");
    }

    /// <summary>A cache in <paramref name="folder"/> (made if missing), or null when there is none or it cannot be made.</summary>
    internal static SpirvDiskCache? At(string? folder, string compiler)
    {
        if (folder is null) return null;
        try
        {
            Directory.CreateDirectory(folder);
            return new SpirvDiskCache(folder, compiler);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public uint[]? TryRead(string source)
    {
        try
        {
            var bytes = File.ReadAllBytes(PathOf(source));
            if (bytes.Length < 20 || bytes.Length % 4 != 0 || BitConverter.ToUInt32(bytes, 0) != SpirvMagic) return null;
            var words = new uint[bytes.Length / 4];
            Buffer.BlockCopy(bytes, 0, words, 0, bytes.Length);
            return words;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public void Write(string source, uint[] words)
    {
        string path = PathOf(source);
        string temp = path + "." + Environment.ProcessId + "." + Environment.CurrentManagedThreadId + ".tmp";
        try
        {
            var bytes = new byte[words.Length * 4];
            Buffer.BlockCopy(words, 0, bytes, 0, bytes.Length);
            File.WriteAllBytes(temp, bytes);
            File.Move(temp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    private string PathOf(string source) =>
        Path.Combine(_folder, Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(_compiler + "\n" + source))).ToLowerInvariant() + ".spv");
}

using System.Globalization;

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// Per-core data cache sizes as Linux reports them (/sys/devices/system/cpu/cpu0/cache/index*/),
/// read once. Anything unreadable falls back to a common modern x86 core (32 KiB L1d, 512 KiB L2,
/// 8 MiB L3), so blocking stays sane on other systems; it only costs speed, never correctness.
/// </summary>
internal readonly record struct CacheSizes(long L1, long L2, long L3)
{
    public static readonly CacheSizes Fallback = new(32 * 1024, 512 * 1024, 8 * 1024 * 1024);

    public static CacheSizes Host { get; } = Read("/sys/devices/system/cpu/cpu0/cache");

    internal static CacheSizes Read(string directory)
    {
        long l1 = 0, l2 = 0, l3 = 0;
        try
        {
            if (!Directory.Exists(directory)) return Fallback;
            foreach (var index in Directory.GetDirectories(directory, "index*"))
            {
                string type = ReadText(index, "type");
                if (type == "Instruction") continue;
                long size = ParseSize(ReadText(index, "size"));
                switch (ReadText(index, "level"))
                {
                    case "1": l1 = size; break;
                    case "2": l2 = size; break;
                    case "3": l3 = size; break;
                }
            }
        }
        catch (IOException) { return Fallback; }
        catch (UnauthorizedAccessException) { return Fallback; }
        return new CacheSizes(Sane(l1, 16 * 1024, Fallback.L1), Sane(l2, 128 * 1024, Fallback.L2), Sane(l3, 0, Fallback.L3));
    }

    private static string ReadText(string directory, string name)
    {
        string path = Path.Combine(directory, name);
        return File.Exists(path) ? File.ReadAllText(path).Trim() : "";
    }

    /// <summary>"32K", "1024K", "32M" or plain bytes; 0 when unparsable.</summary>
    internal static long ParseSize(string text)
    {
        if (text.Length == 0) return 0;
        long unit = char.ToUpperInvariant(text[^1]) switch { 'K' => 1024, 'M' => 1024 * 1024, 'G' => 1024L * 1024 * 1024, _ => 1 };
        string digits = unit == 1 ? text : text[..^1];
        return long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value * unit : 0;
    }

    // A size outside what any real core has (a broken or virtualised report) falls back.
    private static long Sane(long size, long min, long fallback) => size > min && size <= 1L << 30 ? size : fallback;
}

namespace Dataflow.Engine.Tokenizers;

/// <summary>
/// GPT-2's bytes_to_unicode table: every byte gets a printable, non-whitespace character so that
/// byte-level tokens can be written to vocab.json / merges.txt (which split on spaces) as text.
/// Printable Latin-1 bytes map to themselves; the other 68 bytes map to U+0100 upwards, in byte order.
/// </summary>
public static class ByteLevelAlphabet
{
    private static readonly char[] ByteToCharTable = BuildTable();
    private static readonly Dictionary<char, byte> CharToByteTable = BuildInverse();

    public static char ByteToChar(byte b) => ByteToCharTable[b];

    /// <summary>The byte a symbol character stands for, or false for a character outside the table.</summary>
    public static bool TryCharToByte(char c, out byte b) => CharToByteTable.TryGetValue(c, out b);

    private static char[] BuildTable()
    {
        var table = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++)
        {
            bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            table[b] = printable ? (char)b : (char)next++;
        }
        return table;
    }

    private static Dictionary<char, byte> BuildInverse()
    {
        var inverse = new Dictionary<char, byte>(256);
        for (int b = 0; b < 256; b++) inverse[ByteToCharTable[b]] = (byte)b;
        return inverse;
    }
}

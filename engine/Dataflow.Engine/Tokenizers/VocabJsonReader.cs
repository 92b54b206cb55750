using System.Text;
using System.Text.Json;

namespace Dataflow.Engine.Tokenizers;

/// <summary>
/// Reads GPT-2's vocab.json (one JSON object, token string → id) with a streaming reader so that
/// every complaint can name the line it is about; JsonDocument would lose positions.
/// </summary>
internal static class VocabJsonReader
{
    /// <param name="source">How errors name the input, e.g. the file path.</param>
    public static Dictionary<string, int> Read(ReadOnlySpan<byte> utf8, string source)
    {
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        var tokenOfId = new Dictionary<int, string>();
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                throw Fail(source, utf8, reader, "expected a JSON object mapping token strings to ids");
            while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
            {
                string token = reader.GetString()!;
                reader.Read();
                if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out int id) || id < 0)
                    throw Fail(source, utf8, reader, $"token {Quote(token)} must map to a non-negative integer id");
                if (!vocab.TryAdd(token, id))
                    throw Fail(source, utf8, reader, $"token {Quote(token)} appears twice");
                if (!tokenOfId.TryAdd(id, token))
                    throw Fail(source, utf8, reader, $"id {id} is given to both {Quote(tokenOfId[id])} and {Quote(token)}");
            }
            if (reader.TokenType != JsonTokenType.EndObject)
                throw Fail(source, utf8, reader, "the JSON object is not closed");
        }
        catch (JsonException e)
        {
            long line = (e.LineNumber ?? 0) + 1;
            throw new TokenizerException($"{source}:{line}: not valid JSON: {e.Message}", e);
        }
        return vocab;
    }

    public static Dictionary<string, int> Read(string json, string source) => Read(Encoding.UTF8.GetBytes(json), source);

    private static TokenizerException Fail(string source, ReadOnlySpan<byte> utf8, Utf8JsonReader reader, string problem)
    {
        int upTo = (int)Math.Min(reader.TokenStartIndex, utf8.Length);
        int line = utf8[..upTo].Count((byte)'\n') + 1;
        return new TokenizerException($"{source}:{line}: {problem}");
    }

    internal static string Quote(string token) => JsonSerializer.Serialize(token);
}

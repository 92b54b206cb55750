using Dataflow.Engine.Data;
using Dataflow.Reinforcement;

namespace Dataflow.Tests.Reinforcement;

public sealed class PreferencePairReaderTests
{
    [Fact]
    public void ReadsEveryPairAndSkipsBlankLines()
    {
        var pairs = PreferencePairReader.Parse(["{\"prompt\":\"2+2=\",\"chosen\":\"4\",\"rejected\":\"5\",\"source\":\"x\"}", "", "{\"prompt\":\"hi\",\"chosen\":\"hello!\",\"rejected\":\"go away\"}"], "pairs.jsonl");
        Assert.Equal([new PreferencePair("2+2=", "4", "5"), new PreferencePair("hi", "hello!", "go away")], pairs);
    }

    [Fact]
    public void AMissingFieldNamesTheLine()
    {
        var e = Assert.Throws<DataException>(() => PreferencePairReader.Parse(["{\"prompt\":\"a\",\"chosen\":\"b\",\"rejected\":\"c\"}", "{\"prompt\":\"a\",\"chosen\":\"b\"}"], "pairs.jsonl"));
        Assert.StartsWith("pairs.jsonl:2: missing field \"rejected\"", e.Message);
    }

    [Theory]
    [InlineData("[1, 2]", "pairs.jsonl:1: expected a JSON object")]
    [InlineData("{\"prompt\": 3, \"chosen\": \"b\", \"rejected\": \"c\"}", "pairs.jsonl:1: field \"prompt\" must be a string")]
    [InlineData("{\"prompt\": \"a\",", "pairs.jsonl:1: not a JSON object")]
    public void OtherBadLinesNameTheLineToo(string line, string start) =>
        Assert.StartsWith(start, Assert.Throws<DataException>(() => PreferencePairReader.Parse([line], "pairs.jsonl")).Message);

    [Fact]
    public void AFileWithoutPairsIsAnError()
    {
        var path = Path.GetTempFileName();
        try { Assert.Contains("no preference pairs", Assert.Throws<DataException>(() => PreferencePairReader.Read(path)).Message); }
        finally { File.Delete(path); }
    }
}

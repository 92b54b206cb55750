using Dataflow.Graph.Checkpoints;

namespace Dataflow.Tests.Checkpoints;

public sealed class ParameterLayoutTests
{
    [Fact]
    public void HashIsSixteenLowercaseHexDigitsAndStableAcrossBuilds()
    {
        // Pinned: a change here makes every existing checkpoint look like another model's.
        Assert.Equal(PinnedMlpHash, ParameterLayout.Hash(SampleCheckpoints.MlpLayout));
    }

    private const string PinnedMlpHash = "5b0cad9e66416f9c";

    [Fact]
    public void HashDependsOnOrderNamesAndShapes()
    {
        string reference = ParameterLayout.Hash([("a", [2, 3]), ("b", [3])]);

        Assert.NotEqual(reference, ParameterLayout.Hash([("b", [3]), ("a", [2, 3])]));
        Assert.NotEqual(reference, ParameterLayout.Hash([("a", [3, 2]), ("b", [3])]));
        Assert.NotEqual(reference, ParameterLayout.Hash([("a", [2, 3]), ("c", [3])]));
        // Length prefixes: moving a dim between tensors or a letter between names changes the hash.
        Assert.NotEqual(reference, ParameterLayout.Hash([("a", [2]), ("b", [3, 3])]));
        Assert.NotEqual(ParameterLayout.Hash([("ab", [1]), ("c", [1])]), ParameterLayout.Hash([("a", [1]), ("bc", [1])]));
        Assert.Equal(reference, ParameterLayout.Hash([("a", [2, 3]), ("b", [3])]));
    }
}

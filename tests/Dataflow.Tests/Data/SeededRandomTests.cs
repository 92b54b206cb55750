using Dataflow.Engine.Data;

namespace Dataflow.Tests.Data;

public sealed class SeededRandomTests
{
    [Fact]
    public void MatchesTheXoshiro256StarStarReferenceSeededBySplitMix64()
    {
        // From the published algorithms (SplitMix64 seeding from 0, then xoshiro256**), computed independently.
        var random = new SeededRandom(0);

        Assert.Equal(0x99ec5f36cb75f2b4UL, random.NextUInt64());
        Assert.Equal(0xbf6e1f784956452aUL, random.NextUInt64());
        Assert.Equal(0x1a5f849d4933e6e0UL, random.NextUInt64());
        Assert.Equal(0x6aa594f1262d2d2cUL, random.NextUInt64());
    }

    [Fact]
    public void RestoredStateContinuesTheSameSequence()
    {
        var random = new SeededRandom(1234);
        for (int i = 0; i < 10; i++) random.NextUInt64();
        byte[] state = random.GetState();
        ulong[] expected = Enumerable.Range(0, 5).Select(_ => random.NextUInt64()).ToArray();

        var restored = new SeededRandom(999);
        restored.SetState(state);

        Assert.Equal(expected, Enumerable.Range(0, 5).Select(_ => restored.NextUInt64()));
    }

    [Fact]
    public void InvalidStatesAreRefused()
    {
        var random = new SeededRandom(1);

        Assert.Throws<ArgumentException>(() => random.SetState(new byte[31]));
        Assert.Throws<ArgumentException>(() => random.SetState(new byte[32]));
    }

    [Fact]
    public void NextIntStaysInRangeAndReachesEveryValue()
    {
        var random = new SeededRandom(7);
        var seen = new int[7];
        for (int i = 0; i < 7000; i++) seen[random.NextInt(7)]++;

        Assert.All(seen, n => Assert.InRange(n, 850, 1150));
    }

    [Fact]
    public void ShuffleIsAPermutation()
    {
        int[] items = Enumerable.Range(0, 100).ToArray();

        new SeededRandom(3).Shuffle(items.AsSpan());

        Assert.NotEqual(Enumerable.Range(0, 100), items);
        Assert.Equal(Enumerable.Range(0, 100), items.Order());
    }
}

using Dataflow.Runner.Bench;

namespace Dataflow.Tests.Runner;

/// <summary><c>bench gpt-generate</c>'s bound: the attended cache positions and which limit binds, against sums done by hand.</summary>
public class DecodeStepBoundTests
{
    private static readonly GenerateShape Small = GenerateShape.All.Single(s => s.Name == "15m");

    [Fact]
    public void AttendedPositionsAverageTheDecodeStepsAndStopAtTheContext()
    {
        // 256 tokens after a 1-token prompt: 255 decode steps at positions 1..255, attending to 2..256 positions.
        Assert.Equal((256.0 * 257 / 2 - 1) / 255, DecodeStepBound.MeanAttendedPositions(256, 1, 256), 12);
        // Context 8, prompt 4, 10 tokens: 9 steps attending to 5, 6, 7, then 8 for the rest.
        Assert.Equal((5 + 6 + 7 + 8 * 6) / 9.0, DecodeStepBound.MeanAttendedPositions(8, 4, 10), 12);
    }

    [Fact]
    public void OneRowIsMemoryBoundAndSixteenRowsCanBeComputeBound()
    {
        const long weightBytes = 61_000_000, parameters = 15_250_000;
        double keys = DecodeStepBound.MeanAttendedPositions(Small.Context, 1, 256);

        var one = DecodeStepBound.For(Small, 1, weightBytes, parameters, 1, 256, bandwidthGBps: 30, peakGflops: 200);
        double oneCache = 6 * 2 * 288 * 4 * keys;
        Assert.Equal("memory", one.Limit);
        Assert.Equal(oneCache, one.CacheBytes, 6);
        Assert.Equal((weightBytes + oneCache) / 30e9, one.Seconds, 12);

        var sixteen = DecodeStepBound.For(Small, 16, weightBytes, parameters, 1, 256, bandwidthGBps: 30, peakGflops: 100);
        Assert.Equal("compute", sixteen.Limit);
        Assert.Equal(16 * oneCache, sixteen.CacheBytes, 6);
        Assert.Equal(16 * (2.0 * parameters + 6 * 4 * 288 * keys) / 100e9, sixteen.Seconds, 12);
        Assert.Equal(16 / sixteen.Seconds, sixteen.TokensPerSecond(16), 9);
    }
}

namespace Dataflow.Runner.Bench;

/// <summary>
/// The fastest a decode step of <c>bench gpt-generate</c> could run on this machine. It takes the slower of
/// two limits and assumes the two overlap perfectly, so it is a bound that no real step reaches:
/// <list type="bullet">
/// <item><b>memory</b>: every weight read once per step, plus the key/value cache rows each sequence
/// attends to, at the read bandwidth measured in the same run;</item>
/// <item><b>compute</b>: two flops per parameter per row (each weight meets each row in one multiply-add; the
/// position table, gains and biases, which take none, are under 1 % of these models' parameters), plus
/// attention's two dot products per cached position and layer, at the FMA peak measured in the same run.</item>
/// </list>
/// One row streams weights, so batch 1 is memory bound. Sixteen rows do sixteen times the multiply-adds over the
/// same weight bytes, and the caches they read grow with the position, so a 16-row step can reach the compute
/// limit first. Counting the weights alone would put that row's bound at 16 times batch 1's, which no step can get near.
/// </summary>
public sealed record DecodeStepBound(double Seconds, string Limit, double CacheBytes)
{
    public double TokensPerSecond(int batch) => batch / Seconds;

    /// <param name="prompt">Prompt length of each sequence: the first decode step feeds position <paramref name="prompt"/>.</param>
    /// <param name="tokens">Tokens each sequence generates: the first comes from the prefill, the others from one decode step each.</param>
    /// <param name="cacheValueBytes">Bytes per cached key or value: 4 for an f32 cache, 2 for a bf16 one.</param>
    public static DecodeStepBound For(GenerateShape shape, int batch, long weightBytes, long parameters, int prompt, int tokens,
        double bandwidthGBps, double peakGflops, int cacheValueBytes = sizeof(float))
    {
        double keys = MeanAttendedPositions(shape.Context, prompt, tokens);
        double cacheBytes = (double)batch * shape.Layers * 2 * shape.D * cacheValueBytes * keys;
        double memory = (weightBytes + cacheBytes) / (bandwidthGBps * 1e9);
        double flops = batch * (2.0 * parameters + shape.Layers * 2 * 2.0 * shape.D * keys);
        double compute = flops / (peakGflops * 1e9);
        return memory >= compute ? new(memory, "memory", cacheBytes) : new(compute, "compute", cacheBytes);
    }

    /// <summary>
    /// The mean count of cached positions a decode step attends to: a step at position p attends to p + 1 of them,
    /// at most the whole context (a full window slides).
    /// </summary>
    public static double MeanAttendedPositions(int context, int prompt, int tokens)
    {
        int steps = Math.Max(1, tokens - 1);
        double sum = 0;
        for (int step = 0; step < steps; step++) sum += Math.Min(context, prompt + step + 1);
        return sum / steps;
    }
}

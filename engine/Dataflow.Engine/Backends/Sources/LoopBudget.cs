namespace Dataflow.Engine.Backends.Sources;

/// <summary>
/// How many loop iterations one kernel invocation may run in all. Unlimited on GPUs and OpenCL
/// (long.MaxValue); Mesa's llvmpipe (lavapipe) before 23.x stops every invocation after 65535
/// iterations summed over all its loops, silently, so emitters keep each invocation's loops within
/// the budget: more groups for grid loops, wider trees for long reductions, and long loops split
/// into passes.
/// </summary>
public static class LoopBudget
{
    public const long Unlimited = long.MaxValue;

    /// <summary>Iterations one pass of a chunked loop runs: a quarter of the budget, leaving room for the loops around it.</summary>
    public static long Chunk(long budget) => Math.Max(1, budget / 4);

    /// <summary>Passes that cover <paramref name="iterations"/> in chunks of <see cref="Chunk"/>.</summary>
    public static int Passes(long iterations, long budget) => (int)Math.Max(1, (iterations + Chunk(budget) - 1) / Chunk(budget));
}

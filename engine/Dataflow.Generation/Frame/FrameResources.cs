namespace Dataflow.Generation.Frame;

// The generator world's resources that are not rows per sequence: what the frame systems share
// by cache slot, the frame count, and the results. BatchDecoder itself is a resource too.

/// <summary>The logits of each cache slot's next token, cut to the tokenizer's vocabulary (a model may pad its own, as nanoGPT's 50304).</summary>
internal sealed class SlotLogits(int slots, int vocab)
{
    private readonly float[][] _rows = [.. Enumerable.Range(0, slots).Select(_ => new float[vocab])];

    public float[] this[int slot] => _rows[slot];
}

/// <summary>The free cache slots; the lowest is taken first, so admission is deterministic.</summary>
internal sealed class SlotPool(int slots)
{
    private readonly bool[] _free = [.. Enumerable.Repeat(true, slots)];

    /// <summary>The lowest free slot, now taken, or -1 when none is free.</summary>
    public int Take()
    {
        int slot = Array.IndexOf(_free, true);
        if (slot >= 0) _free[slot] = false;
        return slot;
    }

    public void Free(int slot) => _free[slot] = true;
}

/// <summary>The frame being run (the generator counts them; systems only read it).</summary>
internal sealed class FrameClock
{
    public long Number { get; set; }

    public static long Now => System.Diagnostics.Stopwatch.GetTimestamp();
}

/// <summary>Retired requests' results, by request id.</summary>
internal sealed class GenerationResults
{
    public Dictionary<int, GenerationResult> ById { get; } = [];
}

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// What <see cref="Gemm"/> does with A·B on its way into C, while the tile is still in cache:
/// C = Alpha·A·B (+ C when <see cref="Accumulate"/>: a residual add, or summing gradients) + Bias
/// broadcast along the rows (one value per output column, a linear layer's bias). Activations are
/// the next hook to add here; nothing hands the CPU matmul an activation yet (the fusion system
/// fuses elementwise chains only), so none is wired.
/// </summary>
internal readonly unsafe struct GemmEpilogue(float alpha, float* bias, bool accumulate)
{
    public static GemmEpilogue None => new(1f, null, false);

    public float Alpha { get; } = alpha;

    /// <summary>N floats added to every row of C; null for none.</summary>
    public float* Bias { get; } = bias;

    public bool Accumulate { get; } = accumulate;

    public bool IsNone => Alpha == 1f && Bias == null && !Accumulate;
}

using Dataflow.Engine.Backends;

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// Adam / AdamW over every parameter in one parallel loop: the parameters are cut into chunks once
/// (at compile time), and the loop runs over all chunks of all parameters, each with
/// <see cref="OptimizerKernel"/>'s own per-element update, so the bits are the per-parameter
/// kernels'. One launch instead of one per parameter: the small vectors (biases, gains) no longer
/// pay a parallel loop each, and the two cores share the large matrices' chunks.
/// </summary>
internal sealed unsafe class OptimizerGroupKernel : CpuKernel
{
    /// <summary>Elements per chunk: a multiple of the vector width, large enough to amortise a hand-off.</summary>
    private const int ChunkElements = 8 * 1024;

    private readonly OptimizerGroupSpec _spec;
    private readonly (int Parameter, int Start, int End)[] _chunks;

    public OptimizerGroupKernel(OptimizerGroupSpec spec)
        : base(spec, [.. spec.Elements.SelectMany(n => Enumerable.Repeat(n, OptimizerGroupSpec.BuffersPerParameter))])
    {
        if (!OptimizerGroupSpec.Groups(spec.Kind)) throw new NotSupportedException($"cpu: {spec.DisplayName} has no grouped form");
        if (spec.Decays.Length != spec.Elements.Length) throw new ArgumentException($"cpu: {spec.DisplayName}: {spec.Decays.Length} decay flags for {spec.Elements.Length} parameters");
        _spec = spec;
        var chunks = new List<(int, int, int)>();
        for (int p = 0; p < spec.Elements.Length; p++)
        {
            if (spec.Elements[p] > int.MaxValue) throw new NotSupportedException($"cpu: {spec.DisplayName}: a parameter of {spec.Elements[p]} elements");
            int n = (int)spec.Elements[p];
            for (int start = 0; start < n; start += ChunkElements) chunks.Add((p, start, Math.Min(n, start + ChunkElements)));
        }
        _chunks = [.. chunks];
    }

    private readonly struct State(OptimizerGroupKernel kernel, nint* pointers, float* scalars)
    {
        public readonly OptimizerGroupKernel Kernel = kernel;
        public readonly nint* Pointers = pointers;   // four per parameter
        public readonly float* Scalars = scalars;
    }

    public override void Run(ReadOnlySpan<CpuBuffer> buffers, in LaunchParams launch)
    {
        var s = launch.Scalars;
        if (s is null || s.Length < OptimizerScalars.Count)
            throw new ArgumentException($"{Spec.DisplayName}: expected {OptimizerScalars.Count} scalars in the launch, got {s?.Length ?? 0}");
        if (_chunks.Length == 0) return;
        nint* pointers = stackalloc nint[buffers.Length];
        for (int i = 0; i < buffers.Length; i++) pointers[i] = (nint)buffers[i].Pointer;
        fixed (float* scalars = s)
            Par.For(_chunks.Length, 16L * ChunkElements, new State(this, pointers, scalars), static (state, first, last) => state.Kernel.RunChunks(state, first, last));
    }

    private void RunChunks(in State state, int first, int last)
    {
        float* s = state.Scalars;
        float lr = s[OptimizerScalars.LearningRate], b1 = s[OptimizerScalars.Beta1], b2 = s[OptimizerScalars.Beta2];
        float eps = s[OptimizerScalars.Epsilon], wd = s[OptimizerScalars.WeightDecay], scale = s[OptimizerScalars.GradientScale];
        float bc1 = s[OptimizerScalars.BiasCorrection1], bc2 = s[OptimizerScalars.BiasCorrection2];
        bool decoupled = _spec.Kind == OptimizerKind.AdamW;
        for (int c = first; c < last; c++)
        {
            var (p, start, end) = _chunks[c];
            float** b = (float**)state.Pointers + OptimizerGroupSpec.BuffersPerParameter * p;
            OptimizerKernel.Adam(b[0], b[1], b[2], b[3], start, end, lr, b1, b2, eps, _spec.Decays[p] ? wd : 0f, scale, bc1, bc2, decoupled);
        }
    }
}

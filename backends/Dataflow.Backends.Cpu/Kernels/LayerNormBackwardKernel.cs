using System.Runtime.Intrinsics;
using Dataflow.Engine.Backends;

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// Layer norm backward (<see cref="LayerNormBackwardSpec"/>) in three passes over each row while it is in
/// L1, parallel over blocks of rows: the unfused graph is some twenty ops in several kernels, each reading
/// and writing whole activations. Every value is the catalog rule's float operation in its order, with no
/// fused multiply-add; the two row sums are materialised and summed as <see cref="ReduceKernel"/> sums rows,
/// and dgain and dbias are summed over the same blocks of <see cref="ReduceKernel.ColumnBlock"/> rows in
/// float, the blocks then totalled in double in order, as its column path does. So the result is the unfused
/// ops' to the bit, whatever the number of threads.
/// </summary>
internal sealed unsafe class LayerNormBackwardKernel : CpuKernel
{
    private const int Block = ReduceKernel.ColumnBlock;
    private readonly LayerNormBackwardSpec _spec;
    private readonly int _blocks;

    public LayerNormBackwardKernel(LayerNormBackwardSpec spec) : base(spec, spec.BufferElements)
    {
        if (spec.Width <= 0 || spec.Width > int.MaxValue / 4) throw new NotSupportedException($"cpu: layer_norm_backward rows of {spec.Width} elements");
        _spec = spec;
        _blocks = (int)((spec.Rows + Block - 1) / Block);
    }

    private readonly struct State(LayerNormBackwardKernel kernel, float* g, float* gain, float* centered, float* deviation, float* normalized,
        float* incoming, float* dx, float* gainPartial, float* biasPartial)
    {
        public readonly LayerNormBackwardKernel Kernel = kernel;
        public readonly float* G = g, Gain = gain, Centered = centered, Deviation = deviation, Normalized = normalized, Incoming = incoming, Dx = dx;
        public readonly float* GainPartial = gainPartial, BiasPartial = biasPartial;   // one row of Width per block, or null
    }

    public override void Run(ReadOnlySpan<CpuBuffer> buffers, in LaunchParams launch)
    {
        if (_spec.Rows == 0) return;
        int at = 5;
        float* incoming = _spec.HasIncoming ? buffers[at++].Pointer : null;
        float* dx = buffers[at++].Pointer;
        float* gainGrad = _spec.HasGainGrad ? buffers[at++].Pointer : null;
        float* biasGrad = _spec.HasBiasGrad ? buffers[at].Pointer : null;
        int d = (int)_spec.Width;
        int sums = (_spec.HasGainGrad ? 1 : 0) + (_spec.HasBiasGrad ? 1 : 0);
        // The partial sums come from the shared pool: two launches of this kernel may run at once.
        using var partials = sums > 0 ? Scratch.RentShared((long)sums * _blocks * d) : null;
        float* gainPartial = _spec.HasGainGrad ? partials!.Pointer : null;
        float* biasPartial = _spec.HasBiasGrad ? partials!.Pointer + (_spec.HasGainGrad ? (long)_blocks * d : 0) : null;
        Par.For(_blocks, 16L * Block * d,
            new State(this, buffers[0].Pointer, buffers[1].Pointer, buffers[2].Pointer, buffers[3].Pointer, buffers[4].Pointer,
                incoming, dx, gainPartial, biasPartial),
            static (s, first, last) => s.Kernel.RunBlocks(s, first, last));
        if (gainGrad != null) Total(gainPartial, gainGrad, d);
        if (biasGrad != null) Total(biasPartial, biasGrad, d);
    }

    /// <summary>Each column's block sums added in double in block order, as the reduce kernel's column path does.</summary>
    private void Total(float* partial, float* result, int d)
    {
        for (int i = 0; i < d; i++)
        {
            double sum = 0;
            for (int b = 0; b < _blocks; b++) sum += partial[(long)b * d + i];
            result[i] = (float)sum;
        }
    }

    private void RunBlocks(in State s, int first, int last)
    {
        int d = (int)_spec.Width;
        // Two row registers: ĝ/σ (then dc), and the row each sum reads (−(ĝ·x̂)/σ, then −dc).
        float* direct = Scratch.ThreadLocal(Scratch.Registers, 2L * d);
        float* summed = direct + d;
        for (int b = first; b < last; b++)
        {
            long r0 = (long)b * Block, r1 = Math.Min(_spec.Rows, r0 + Block);
            for (long r = r0; r < r1; r++)
            {
                long at = r * d;
                Row(s, at, s.Deviation[r], direct, summed, d);
                if (s.GainPartial != null) AddColumns(s.GainPartial + (long)b * d, s.G + at, s.Normalized + at, d, first: r == r0);
                if (s.BiasPartial != null) AddColumns(s.BiasPartial + (long)b * d, s.G + at, null, d, first: r == r0);
            }
        }
    }

    /// <summary>dx of one row, in the graph's order of operations.</summary>
    private void Row(in State s, long at, float deviation, float* direct, float* summed, int d)
    {
        float* g = s.G + at, c = s.Centered + at, n = s.Normalized + at, gain = s.Gain;
        const int W = 8;
        var dev = Vector256.Create(deviation);
        int i = 0;
        for (; i + W <= d; i += W)
        {
            var scaled = Vector256.Load(g + i) * Vector256.Load(gain + i);
            (-((scaled * Vector256.Load(n + i)) / dev)).Store(summed + i);
            (scaled / dev).Store(direct + i);
        }
        for (; i < d; i++)
        {
            float scaled = g[i] * gain[i];
            summed[i] = -((scaled * n[i]) / deviation);
            direct[i] = scaled / deviation;
        }

        float deviationGrad = LayerNormKernel.RowSum(new ReadOnlySpan<float>(summed, d));
        float varianceGrad = deviationGrad / (deviation * _spec.Two) * _spec.VarianceScale;
        var v = Vector256.Create(varianceGrad);
        for (i = 0; i + W <= d; i += W)
        {
            var term = v * Vector256.Load(c + i);
            var dc = (Vector256.Load(direct + i) + term) + term;
            dc.Store(direct + i);
            (-dc).Store(summed + i);
        }
        for (; i < d; i++)
        {
            float term = varianceGrad * c[i];
            float dc = (direct[i] + term) + term;
            direct[i] = dc;
            summed[i] = -dc;
        }

        float meanGrad = LayerNormKernel.RowSum(new ReadOnlySpan<float>(summed, d)) * _spec.MeanScale;
        var m = Vector256.Create(meanGrad);
        float* dx = s.Dx + at;
        if (s.Incoming != null)
        {
            float* prior = s.Incoming + at;
            for (i = 0; i + W <= d; i += W) ((Vector256.Load(prior + i) + Vector256.Load(direct + i)) + m).Store(dx + i);
            for (; i < d; i++) dx[i] = (prior[i] + direct[i]) + meanGrad;
        }
        else
        {
            for (i = 0; i + W <= d; i += W) (Vector256.Load(direct + i) + m).Store(dx + i);
            for (; i < d; i++) dx[i] = direct[i] + meanGrad;
        }
    }

    /// <summary>acc = a·b (or a) for a block's first row, acc += a·b (or a) for the others: a float column sum in row order.</summary>
    private static void AddColumns(float* acc, float* a, float* b, int d, bool first)
    {
        const int W = 8;
        int i = 0;
        for (; i + W <= d; i += W)
        {
            var value = b != null ? Vector256.Load(a + i) * Vector256.Load(b + i) : Vector256.Load(a + i);
            (first ? value : Vector256.Load(acc + i) + value).Store(acc + i);
        }
        for (; i < d; i++)
        {
            float value = b != null ? a[i] * b[i] : a[i];
            acc[i] = first ? value : acc[i] + value;
        }
    }
}

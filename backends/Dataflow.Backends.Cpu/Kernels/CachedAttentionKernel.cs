using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Dataflow.Engine.Backends;

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// cached_attention: for each query row (b, head, t) at position p = position[b] + t, softmax over
/// the scaled dot products with cache rows 0 … p of slot[b], then the weighted sum of their values.
/// Only those p + 1 rows are read, so a decode step early in a long cache costs what it uses; a row
/// with no visible positions (idle: slot or position out of range) is zeros. Rows run in parallel,
/// each in one thread's scratch of scores, so a launch allocates nothing when it runs inline.
/// </summary>
internal sealed unsafe class CachedAttentionKernel : CpuKernel
{
    private readonly int _batch, _heads, _tokens, _width, _slots, _length;

    public CachedAttentionKernel(OpKernelSpec spec)
        : base(spec, [spec.Inputs[0].Elements, spec.Inputs[1].Elements, spec.Inputs[2].Elements, spec.Inputs[3].Elements, spec.Inputs[4].Elements, spec.Output.Elements])
    {
        var (q, cache) = (spec.Inputs[0].Shape, spec.Inputs[1].Shape);
        (_batch, _heads, _tokens, _width) = ((int)q[0], (int)q[1], (int)q[2], (int)q[3]);
        (_slots, _length) = ((int)cache[0], (int)cache[2]);
    }

    public override void Run(ReadOnlySpan<CpuBuffer> buffers, in LaunchParams launch)
    {
        int* position = (int*)buffers[3].Pointer;
        // The work per row is its visible length; size the parallel chunks by the longest.
        long longest = 1;
        for (int b = 0; b < _batch; b++) longest = Math.Max(longest, Math.Min(_length, (long)position[b] + _tokens));
        var rows = new Rows(buffers[0].Pointer, buffers[1].Pointer, buffers[2].Pointer, position, (int*)buffers[4].Pointer, buffers[5].Pointer,
            _heads, _tokens, _width, _slots, _length, 1 / MathF.Sqrt(_width));
        Par.For(_batch * _heads * _tokens, 4 * longest * _width, rows, static (r, first, last) =>
        {
            float* scores = Scratch.ThreadLocal(Scratch.Scores, r.Length);
            for (int row = first; row < last; row++) r.Attend(row, scores);
        });
    }

    private readonly struct Rows(float* q, float* keys, float* values, int* position, int* slot, float* output,
        int heads, int tokens, int width, int slots, int length, float scale)
    {
        private readonly float* _q = q, _keys = keys, _values = values, _output = output;
        private readonly int* _position = position, _slot = slot;
        private readonly int _heads = heads, _tokens = tokens, _width = width, _slots = slots;
        private readonly float _scale = scale;
        public readonly int Length = length;

        /// <summary>Query row <paramref name="row"/> of [B, h, T] into the same row of the output.</summary>
        public void Attend(int row, float* scores)
        {
            int t = row % _tokens, head = row / _tokens % _heads, b = row / (_tokens * _heads);
            int width = _width;
            float* query = _q + (long)row * width, output = _output + (long)row * width;
            long p = (long)_position[b] + t;
            int s = _slot[b];
            if (s < 0 || s >= _slots || p < 0 || p >= Length)
            {
                new Span<float>(output, width).Clear();
                return;
            }
            int visible = (int)p + 1;
            long first = ((long)s * _heads + head) * Length * width;
            float* keys = _keys + first, values = _values + first;

            float max = float.NegativeInfinity;
            for (int l = 0; l < visible; l++)
            {
                float score = Dot(query, keys + (long)l * width, width) * _scale;
                scores[l] = score;
                max = MathF.Max(max, score);
            }
            float sum = 0;
            for (int l = 0; l < visible; l++)
            {
                float e = MathF.Exp(scores[l] - max);
                scores[l] = e;
                sum += e;
            }
            new Span<float>(output, width).Clear();
            for (int l = 0; l < visible; l++) AddScaled(output, values + (long)l * width, scores[l], width);
            float inverse = 1 / sum;
            for (int j = 0; j < width; j++) output[j] *= inverse;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static float Dot(float* x, float* y, int n)
        {
            int j = 0;
            var acc = Vector256<float>.Zero;
            for (; j + 8 <= n; j += 8) acc = Vector256.FusedMultiplyAdd(Vector256.Load(x + j), Vector256.Load(y + j), acc);
            float sum = Vector256.Sum(acc);
            for (; j < n; j++) sum = MathF.FusedMultiplyAdd(x[j], y[j], sum);
            return sum;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void AddScaled(float* into, float* x, float weight, int n)
        {
            int j = 0;
            var w = Vector256.Create(weight);
            for (; j + 8 <= n; j += 8) Vector256.FusedMultiplyAdd(w, Vector256.Load(x + j), Vector256.Load(into + j)).Store(into + j);
            for (; j < n; j++) into[j] = MathF.FusedMultiplyAdd(weight, x[j], into[j]);
        }
    }
}

using System.Runtime.CompilerServices;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Dataflow.Engine.Backends;
using Dataflow.Graph.Tensors;

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// cached_attention: for each query row (b, head, t) at position p = position[b] + t, softmax over
/// the scaled dot products with cache rows 0 … p of slot[b], then the weighted sum of their values.
/// Only those p + 1 rows are read, so a decode step early in a long cache costs what it uses; a row
/// with no visible positions (idle: slot or position out of range) is zeros. Rows run in parallel,
/// each in one thread's scratch of scores, so a launch allocates nothing when it runs inline. A bf16
/// cache (bf16x2 keys and values: each row its columns' bfloat16 words) is read widened in registers, the
/// same loops over the same f32 values a cache of the rounded values would hold.
/// </summary>
internal sealed unsafe class CachedAttentionKernel : CpuKernel
{
    private readonly int _batch, _heads, _tokens, _width, _slots, _length;
    private readonly bool _bf16;

    public CachedAttentionKernel(OpKernelSpec spec)
        : base(spec, [spec.Inputs[0].Elements, spec.Inputs[1].Elements, spec.Inputs[2].Elements, spec.Inputs[3].Elements, spec.Inputs[4].Elements, spec.Output.Elements])
    {
        var (q, cache) = (spec.Inputs[0].Shape, spec.Inputs[1].Shape);
        (_batch, _heads, _tokens, _width) = ((int)q[0], (int)q[1], (int)q[2], (int)q[3]);
        (_slots, _length) = ((int)cache[0], (int)cache[2]);
        _bf16 = spec.Inputs[1].DType == DType.Bf16x2;
    }

    public override void Run(ReadOnlySpan<CpuBuffer> buffers, in LaunchParams launch)
    {
        int* position = (int*)buffers[3].Pointer;
        // The work per row is its visible length; size the parallel chunks by the longest.
        long longest = 1;
        for (int b = 0; b < _batch; b++) longest = Math.Max(longest, Math.Min(_length, (long)position[b] + _tokens));
        var rows = new Rows(buffers[0].Pointer, buffers[1].Pointer, buffers[2].Pointer, position, (int*)buffers[4].Pointer, buffers[5].Pointer,
            _heads, _tokens, _width, _slots, _length, 1 / MathF.Sqrt(_width));
        long work = 4 * longest * _width;
        if (_bf16)
            Par.For(_batch * _heads * _tokens, work, rows, static (r, first, last) =>
            {
                float* scores = Scratch.ThreadLocal(Scratch.Scores, r.Length);
                for (int row = first; row < last; row++) r.Attend<Bf16Elements>(row, scores);
            });
        else
            Par.For(_batch * _heads * _tokens, work, rows, static (r, first, last) =>
            {
                float* scores = Scratch.ThreadLocal(Scratch.Scores, r.Length);
                for (int row = first; row < last; row++) r.Attend<F32Elements>(row, scores);
            });
    }

    /// <summary>How the loops read cache elements: 8 at a time as f32, or one.</summary>
    private interface ICacheElements
    {
        static abstract int Bytes { get; }
        static abstract Vector256<float> Load8(byte* row, int at);
        static abstract float Load1(byte* row, int at);
    }

    private readonly struct F32Elements : ICacheElements
    {
        public static int Bytes => sizeof(float);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Load8(byte* row, int at) => Vector256.Load((float*)row + at);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Load1(byte* row, int at) => ((float*)row)[at];
    }

    private readonly struct Bf16Elements : ICacheElements
    {
        public static int Bytes => sizeof(ushort);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Load8(byte* row, int at)
        {
            if (Avx2.IsSupported) return Bf16.Load8((ushort*)row + at);
            var (low, high) = Vector128.Widen(Vector128.Load((ushort*)row + at));
            return Vector256.ShiftLeft(Vector256.Create(low, high), 16).AsSingle();
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Load1(byte* row, int at) => BFloat16.ToSingle(((ushort*)row)[at]);
    }

    private readonly struct Rows(float* q, float* keys, float* values, int* position, int* slot, float* output,
        int heads, int tokens, int width, int slots, int length, float scale)
    {
        private readonly float* _q = q, _output = output;
        private readonly byte* _keys = (byte*)keys, _values = (byte*)values;
        private readonly int* _position = position, _slot = slot;
        private readonly int _heads = heads, _tokens = tokens, _width = width, _slots = slots;
        private readonly float _scale = scale;
        public readonly int Length = length;

        /// <summary>
        /// How far ahead of the keys and values being read the loops prefetch, one line at a time (4 KiB). A row reads
        /// two short runs (15M's head: 24 KiB each at position 128 in f32), which the hardware prefetchers pick up late and
        /// drop at every page: measured on Zen 4, the 15M shape's six layers of 16 rows at position 128 from memory,
        /// 1.52–1.66 ms against 1.89–2.02 without (1 KiB ahead: 1.82–1.87, 16 KiB: 2.44–2.50).
        /// </summary>
        private const int PrefetchBytes = 4096;

        private const int Line = 64;

        /// <summary>Query row <paramref name="row"/> of [B, h, T] into the same row of the output.</summary>
        public void Attend<T>(int row, float* scores) where T : struct, ICacheElements
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
            long first = ((long)s * _heads + head) * Length * width * T.Bytes;
            byte* keys = _keys + first, values = _values + first;

            // Each phase is a loop of independent steps (the dots eight keys at a time, the exponentials a vector at a
            // time) so the core overlaps them, and the weighted sum keeps its output in registers: the one
            // loop-carried chain per element is its fused multiply-adds over the keys, not a store and reload per key.
            Scores<T>(query, keys, values, visible, width, _scale, scores);
            var weights = new Span<float>(scores, visible);
            TensorPrimitives.Subtract(weights, TensorPrimitives.Max(weights), weights);
            TensorPrimitives.Exp(weights, weights);
            float sum = LayerNormKernel.RowSum(weights);   // the row sum the softmax kernel forms, in its order
            WeightedSum<T>(values, scores, visible, width, output);
            TensorPrimitives.Multiply(new ReadOnlySpan<float>(output, width), 1 / sum, new Span<float>(output, width));
        }

        /// <summary>
        /// scores[l] = (query · key l) · scale for l &lt; <paramref name="visible"/>. While the keys are read, the
        /// values the weighted sum reads next are prefetched into L2, line for line with the keys: the row's
        /// value run then starts from L2, not from a cold miss the hardware prefetcher takes a while to follow
        /// (measured on Zen 4, the 15M shape's six layers of 16 rows at position 128 from memory, interleaved
        /// runs: 0.78–1.07 ms against 0.90–1.53; a whole 16-row decode step there 4.53–5.01 ms against 4.69–5.45;
        /// into L1 instead, no better than none). Where rows are whole 8-float
        /// vectors, eight keys per step: eight independent chains of multiply-adds, then one tree of horizontal adds
        /// turns the eight accumulators into the eight dots of one vector (a tenth of the shuffles of summing each
        /// alone); the last keys and other widths one at a time.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Scores<T>(float* query, byte* keys, byte* values, int visible, int width, float scale, float* scores) where T : struct, ICacheElements
        {
            int rowBytes = width * T.Bytes;
            int l = 0;
            if (width % 8 == 0 && Avx.IsSupported && Fma.IsSupported)
            {
                var factor = Vector256.Create(scale);
                for (; l + 8 <= visible; l += 8)
                {
                    byte* key = keys + (long)l * rowBytes;
                    byte* value = values + (long)l * rowBytes;
                    for (int q = 0; q < 8 * rowBytes; q += Line) { Sse.Prefetch0(key + PrefetchBytes + q); Sse.Prefetch1(value + q); }
                    Vector256<float> d0 = default, d1 = default, d2 = default, d3 = default, d4 = default, d5 = default, d6 = default, d7 = default;
                    for (int j = 0; j < width; j += 8)
                    {
                        var x = Vector256.Load(query + j);
                        d0 = Fma.MultiplyAdd(x, T.Load8(key, j), d0);
                        d1 = Fma.MultiplyAdd(x, T.Load8(key + rowBytes, j), d1);
                        d2 = Fma.MultiplyAdd(x, T.Load8(key + 2 * rowBytes, j), d2);
                        d3 = Fma.MultiplyAdd(x, T.Load8(key + 3 * rowBytes, j), d3);
                        d4 = Fma.MultiplyAdd(x, T.Load8(key + 4 * rowBytes, j), d4);
                        d5 = Fma.MultiplyAdd(x, T.Load8(key + 5 * rowBytes, j), d5);
                        d6 = Fma.MultiplyAdd(x, T.Load8(key + 6 * rowBytes, j), d6);
                        d7 = Fma.MultiplyAdd(x, T.Load8(key + 7 * rowBytes, j), d7);
                    }
                    // Pairwise sums within each 128-bit half, then the halves: lane q ends as the sum of accumulator q.
                    var s01 = Avx.HorizontalAdd(d0, d1);
                    var s23 = Avx.HorizontalAdd(d2, d3);
                    var s45 = Avx.HorizontalAdd(d4, d5);
                    var s67 = Avx.HorizontalAdd(d6, d7);
                    var s0123 = Avx.HorizontalAdd(s01, s23);
                    var s4567 = Avx.HorizontalAdd(s45, s67);
                    var dots = Avx.Add(Avx.Permute2x128(s0123, s4567, 0x20), Avx.Permute2x128(s0123, s4567, 0x31));
                    (dots * factor).Store(scores + l);
                }
            }
            for (; l < visible; l++) scores[l] = Dot<T>(query, keys + (long)l * rowBytes, width) * scale;
        }

        /// <summary>
        /// output = Σ_l weights[l] · value row l, in key order per element: blocks of up to 64 columns held in
        /// eight 8-wide accumulators across all the keys, the columns past the last whole vector one by one.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void WeightedSum<T>(byte* values, float* weights, int visible, int width, float* output) where T : struct, ICacheElements
        {
            int vectors = width / 8;
            for (int v0 = 0; v0 < vectors; v0 += 8) Block<T>(values + v0 * 8 * T.Bytes, weights, visible, width, Math.Min(8, vectors - v0), output + v0 * 8);
            for (int j = vectors * 8; j < width; j++)
            {
                float acc = 0;
                for (int l = 0; l < visible; l++) acc = MathF.FusedMultiplyAdd(weights[l], T.Load1(values + (long)l * width * T.Bytes, j), acc);
                output[j] = acc;
            }
        }

        /// <summary><paramref name="count"/> (1 … 8) vectors of 8 columns of the weighted sum, kept in registers over the keys.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Block<T>(byte* values, float* weights, int visible, int width, int count, float* output) where T : struct, ICacheElements
        {
            int rowBytes = width * T.Bytes;
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
            for (int l = 0; l < visible; l++)
            {
                byte* v = values + (long)l * rowBytes;
                for (int q = 0; q < count * 8 * T.Bytes; q += Line) Sse.Prefetch0(v + PrefetchBytes + q);
                var w = Vector256.Create(weights[l]);
                a0 = Vector256.FusedMultiplyAdd(w, T.Load8(v, 0), a0);
                if (count > 1) a1 = Vector256.FusedMultiplyAdd(w, T.Load8(v, 8), a1);
                if (count > 2) a2 = Vector256.FusedMultiplyAdd(w, T.Load8(v, 16), a2);
                if (count > 3) a3 = Vector256.FusedMultiplyAdd(w, T.Load8(v, 24), a3);
                if (count > 4) a4 = Vector256.FusedMultiplyAdd(w, T.Load8(v, 32), a4);
                if (count > 5) a5 = Vector256.FusedMultiplyAdd(w, T.Load8(v, 40), a5);
                if (count > 6) a6 = Vector256.FusedMultiplyAdd(w, T.Load8(v, 48), a6);
                if (count > 7) a7 = Vector256.FusedMultiplyAdd(w, T.Load8(v, 56), a7);
            }
            a0.Store(output);
            if (count > 1) a1.Store(output + 8);
            if (count > 2) a2.Store(output + 16);
            if (count > 3) a3.Store(output + 24);
            if (count > 4) a4.Store(output + 32);
            if (count > 5) a5.Store(output + 40);
            if (count > 6) a6.Store(output + 48);
            if (count > 7) a7.Store(output + 56);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static float Dot<T>(float* x, byte* y, int n) where T : struct, ICacheElements
        {
            int j = 0;
            var acc = Vector256<float>.Zero;
            for (; j + 8 <= n; j += 8) acc = Vector256.FusedMultiplyAdd(Vector256.Load(x + j), T.Load8(y, j), acc);
            float sum = Vector256.Sum(acc);
            for (; j < n; j++) sum = MathF.FusedMultiplyAdd(x[j], T.Load1(y, j), sum);
            return sum;
        }
    }
}

using Dataflow.Engine.Backends;

namespace Dataflow.Backends.OpenCL.Sources;

/// <summary>
/// cached_attention: a work-item per query row (b, head, t) runs an online softmax over the cache rows
/// 0 … p of its slot (p = position[b] + t), rescaling its running sum and weighted values whenever a
/// larger score arrives, so keys and values are read once and only where visible. Idle rows write zeros.
/// </summary>
internal static class AttentionSource
{
    public static KernelSource CachedAttention(OpKernelSpec spec)
    {
        var (q, cache) = (spec.Inputs[0].Shape, spec.Inputs[1].Shape);
        var (heads, tokens, width) = (q[1], q[2], q[3]);
        var (slots, length) = (cache[0], cache[2]);
        long rows = spec.Output.Elements / width;
        string w = ClCode.Int(width);
        var sb = ClCode.Preamble(spec.Key, ClCode.Wide(spec.Inputs[1].Elements, spec.Output.Elements));
        sb.Append($$"""
            __kernel void cached_attention(__global const float* q, __global const float* keys, __global const float* values,
                                           __global const int* position, __global const int* slot, __global float* y)
            {
                const idx_t row = get_global_id(0);
                if (row >= {{ClCode.Int(rows)}}) return;
                const idx_t t = row % {{ClCode.Int(tokens)}}, head = row / {{ClCode.Int(tokens)}} % {{ClCode.Int(heads)}}, b = row / {{ClCode.Int(tokens * heads)}};
                const long p = (long)position[b] + t;
                const int s = slot[b];
                __global float* out = y + row * {{w}};
                if (s < 0 || s >= {{ClCode.Int(slots)}} || p < 0 || p >= {{ClCode.Int(length)}})
                {
                    for (int c = 0; c < {{w}}; c++) out[c] = 0.0f;
                    return;
                }
                __global const float* query = q + row * {{w}};
                const idx_t first = ((idx_t)s * {{ClCode.Int(heads)}} + head) * {{ClCode.Int(length * width)}};
                float acc[{{w}}];
                for (int c = 0; c < {{w}}; c++) acc[c] = 0.0f;
                float best = -3.0e38f, sum = 0.0f;
                for (idx_t l = 0; l <= (idx_t)p; l++)
                {
                    __global const float* k = keys + first + l * {{w}};
                    __global const float* v = values + first + l * {{w}};
                    float score = 0.0f;
                    for (int c = 0; c < {{w}}; c++) score += query[c] * k[c];
                    score *= {{ClCode.Float(1 / MathF.Sqrt(width))}};
                    if (score > best)
                    {
                        const float shrink = exp(best - score);
                        sum *= shrink;
                        for (int c = 0; c < {{w}}; c++) acc[c] *= shrink;
                        best = score;
                    }
                    const float e = exp(score - best);
                    sum += e;
                    for (int c = 0; c < {{w}}; c++) acc[c] += e * v[c];
                }
                for (int c = 0; c < {{w}}; c++) out[c] = acc[c] / sum;
            }

            """);
        return new KernelSource(sb.ToString(), ["cached_attention"],
            [spec.Inputs[0].Elements, spec.Inputs[1].Elements, spec.Inputs[2].Elements, spec.Inputs[3].Elements, spec.Inputs[4].Elements, spec.Output.Elements],
            [Math.Max(1, rows)]);
    }
}

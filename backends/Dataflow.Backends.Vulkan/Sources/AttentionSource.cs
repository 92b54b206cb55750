using Dataflow.Engine.Backends;

namespace Dataflow.Backends.Vulkan.Sources;

/// <summary>
/// cached_attention: an invocation per query row (b, head, t) runs an online softmax over the cache rows
/// 0 … p of its slot (p = position[b] + t), rescaling its running sum and weighted values whenever a
/// larger score arrives, so keys and values are read once and only where visible. Idle rows write zeros.
/// </summary>
internal static class AttentionSource
{
    public static KernelSource CachedAttention(OpKernelSpec spec, int group)
    {
        var (q, cache) = (spec.Inputs[0].Shape, spec.Inputs[1].Shape);
        var (heads, tokens, width) = (q[1], q[2], q[3]);
        var (slots, length) = (cache[0], cache[2]);
        long rows = spec.Output.Elements / width;
        string w = GlslCode.UInt(width);
        var sb = GlslCode.Preamble(spec.DisplayName, group);
        GlslCode.Buffer(sb, 0, "float", "q", readOnly: true);
        GlslCode.Buffer(sb, 1, "float", "keys", readOnly: true);
        GlslCode.Buffer(sb, 2, "float", "values", readOnly: true);
        GlslCode.Buffer(sb, 3, "int", "position", readOnly: true);
        GlslCode.Buffer(sb, 4, "int", "slot", readOnly: true);
        GlslCode.Buffer(sb, 5, "float", "y", readOnly: false);
        GlslCode.GridLoop(sb, rows, $$"""
            const uint t = i % {{GlslCode.UInt(tokens)}}, head = i / {{GlslCode.UInt(tokens)}} % {{GlslCode.UInt(heads)}}, b = i / {{GlslCode.UInt(tokens * heads)}};
            const int p = position[b] + int(t);
            const int s = slot[b];
            const uint row = i * {{w}};
            if (s < 0 || s >= {{slots}} || p < 0 || p >= {{length}})
            {
                for (uint c = 0u; c < {{w}}; c++) y[row + c] = 0.0;
                continue;
            }
            const uint first = (uint(s) * {{GlslCode.UInt(heads)}} + head) * {{GlslCode.UInt(length * width)}};
            float acc[{{width}}];
            for (uint c = 0u; c < {{w}}; c++) acc[c] = 0.0;
            float best = -3.0e38, sum = 0.0;
            for (uint l = 0u; l <= uint(p); l++)
            {
                const uint at = first + l * {{w}};
                float score = 0.0;
                for (uint c = 0u; c < {{w}}; c++) score += q[row + c] * keys[at + c];
                score *= {{GlslCode.Float(1 / MathF.Sqrt(width))}};
                if (score > best)
                {
                    const float shrink = exp(best - score);
                    sum *= shrink;
                    for (uint c = 0u; c < {{w}}; c++) acc[c] *= shrink;
                    best = score;
                }
                const float e = exp(score - best);
                sum += e;
                for (uint c = 0u; c < {{w}}; c++) acc[c] += e * values[at + c];
            }
            for (uint c = 0u; c < {{w}}; c++) y[row + c] = acc[c] / sum;
            """);
        return new KernelSource([sb.ToString()],
            [spec.Inputs[0].Elements, spec.Inputs[1].Elements, spec.Inputs[2].Elements, spec.Inputs[3].Elements, spec.Inputs[4].Elements, spec.Output.Elements],
            [Math.Max(1, rows)], [group], ItemIterations: length * (3 * width + 1));
    }
}

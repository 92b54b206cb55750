namespace Dataflow.Engine.Backends.Sources;

/// <summary>
/// cached_attention: one element's work per query row (b, head, t) runs an online softmax over the
/// cache rows 0 … p of its slot (p = position[b] + t), rescaling its running sum and weighted
/// values whenever a larger score arrives, so keys and values are read once and only where
/// visible. Idle rows (slot or position out of range) write zeros.
/// </summary>
public static class AttentionEmitter
{
    public static EmittedKernel CachedAttention(OpKernelSpec spec, CDialect d)
    {
        var (q, cache) = (spec.Inputs[0].Shape, spec.Inputs[1].Shape);
        var (heads, tokens, width) = (q[1], q[2], q[3]);
        var (slots, length) = (cache[0], cache[2]);
        long rows = spec.Output.Elements / width;
        string ix = d.IndexType, w = d.Index(width), zero = d.Float(0f);
        string body = $$"""
            const {{ix}} t = i % {{d.Index(tokens)}}, head = i / {{d.Index(tokens)}} % {{d.Index(heads)}}, b = i / {{d.Index(tokens * heads)}};
            const int p = position[b] + {{d.Convert("int", "t")}};
            const int s = slot[b];
            const {{ix}} row = i * {{w}};
            if (s < 0 || s >= {{slots}} || p < 0 || p >= {{length}})
            {
                for ({{ix}} c = {{d.Index(0)}}; c < {{w}}; c++) y[row + c] = {{zero}};
                {{d.NextElement}}
            }
            const {{ix}} first = ({{d.Convert(ix, "s")}} * {{d.Index(heads)}} + head) * {{d.Index(length * width)}};
            float acc[{{width}}];
            for ({{ix}} c = {{d.Index(0)}}; c < {{w}}; c++) acc[c] = {{zero}};
            float best = {{d.Float(-3.0e38f)}}, sum = {{zero}};
            for ({{ix}} l = {{d.Index(0)}}; l <= {{d.Convert(ix, "p")}}; l++)
            {
                const {{ix}} at = first + l * {{w}};
                float score = {{zero}};
                for ({{ix}} c = {{d.Index(0)}}; c < {{w}}; c++) score += q[row + c] * keys[at + c];
                score *= {{d.Float(1 / MathF.Sqrt(width))}};
                if (score > best)
                {
                    const float shrink = exp(best - score);
                    sum *= shrink;
                    for ({{ix}} c = {{d.Index(0)}}; c < {{w}}; c++) acc[c] *= shrink;
                    best = score;
                }
                const float e = exp(score - best);
                sum += e;
                for ({{ix}} c = {{d.Index(0)}}; c < {{w}}; c++) acc[c] += e * values[at + c];
            }
            for ({{ix}} c = {{d.Index(0)}}; c < {{w}}; c++) y[row + c] = acc[c] / sum;
            """;
        KernelBuffer[] buffers = [
            new("float", "q", ReadOnly: true), new("float", "keys", ReadOnly: true), new("float", "values", ReadOnly: true),
            new("int", "position", ReadOnly: true), new("int", "slot", ReadOnly: true), new("float", "y")];
        var kernel = new ElementKernel("cached_attention", buffers, rows, body);
        return new([kernel], [.. spec.Inputs.Select(i => i.Elements), spec.Output.Elements], [Math.Max(1, rows)],
            ItemIterations: length * (3 * width + 1));
    }
}

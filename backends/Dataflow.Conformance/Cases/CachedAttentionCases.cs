using Dataflow.Graph.Ir;
using Dataflow.Graph.Tensors;

namespace Dataflow.Conformance.Cases;

/// <summary>
/// cached_attention (decode only, no gradient): one-token decode rows at different positions, a
/// prefill chunk into a named slot, head widths on and off the SIMD width, and idle rows (a position
/// at or past the cache, a negative one, a slot out of range), which see nothing and give zeros; and
/// bf16 caches, as fed and as store_rows packs them.
/// </summary>
internal static class CachedAttentionCases
{
    public static IEnumerable<ConformanceCase> All()
    {
        var list = new CaseList
        {
            { "cached_attention", "decode-q[3,2,1,8]-cache[3,2,7,8]", c => c.Output(c.B.CachedAttention(
                c.Input("q", [3, 2, 1, 8]), c.Input("k", [3, 2, 7, 8]), c.Input("v", [3, 2, 7, 8]),
                c.Indices("p", [3], [0, 3, 6]), c.Indices("s", [3], [0, 1, 2]))) },
            { "cached_attention", "prefill-q[1,2,5,8]-slot3-of4", c => c.Output(c.B.CachedAttention(
                c.Input("q", [1, 2, 5, 8]), c.Input("k", [4, 2, 9, 8]), c.Input("v", [4, 2, 9, 8]),
                c.Indices("p", [1], [2]), c.Indices("s", [1], [3]))) },
            { "cached_attention", "width13-q[2,3,4,13]-cache[2,3,33,13]", c => c.Output(c.B.CachedAttention(
                c.Input("q", [2, 3, 4, 13], -2, 2), c.Input("k", [2, 3, 33, 13], -2, 2), c.Input("v", [2, 3, 33, 13]),
                c.Indices("p", [2], [0, 29]), c.Indices("s", [2], [1, 0]))) },
            { "cached_attention", "width64-q[2,2,1,64]-cache[2,2,130,64]", c => c.Output(c.B.CachedAttention(
                c.Input("q", [2, 2, 1, 64]), c.Input("k", [2, 2, 130, 64]), c.Input("v", [2, 2, 130, 64]),
                c.Indices("p", [2], [129, 64]), c.Indices("s", [2], [0, 1]))) },
            // bf16 caches (bf16x2, two columns per element): read as fed, and written by store_rows in the same graph
            // (its f32 rows rounded and packed) and then read, so a wrong packing changes the attention.
            { "cached_attention", "bf16-cache-q[3,2,1,16]-cache[3,2,9,8]", c => c.Output(c.B.CachedAttention(
                c.Input("q", [3, 2, 1, 16]), c.PackedInput("k", [3, 2, 9, 8]), c.PackedInput("v", [3, 2, 9, 8]),
                c.Indices("p", [3], [0, 4, 8]), c.Indices("s", [3], [2, 0, 1]))) },
            { "cached_attention", "bf16-cache-width14-after-store_rows", c =>
            {
                Node Stored(string name) => c.B.Reshape(c.B.StoreRows(c.PackedInput(name, [2 * 2 * 5, 7]), c.Input(name + "new", [2, 2, 14], -2, 2),
                    c.Indices(name + "at", [2, 2], [3, 8, 14, 19])), Shape.Of(2, 2, 5, 7));
                c.Output(c.B.CachedAttention(c.Input("q", [2, 2, 1, 14]), Stored("k"), Stored("v"),
                    c.Indices("p", [2], [3, 4]), c.Indices("s", [2], [0, 1])));
            } },
            { "cached_attention", "idle-rows-give-zeros", c => c.Output(c.B.CachedAttention(
                c.Input("q", [6, 2, 2, 8]), c.Input("k", [2, 2, 6, 8]), c.Input("v", [2, 2, 6, 8]),
                c.Indices("p", [6], [6, -2, 1, 5, 0, 2]), c.Indices("s", [6], [0, 1, 0, 1, 2, -1]))) },
        };
        return list;
    }
}

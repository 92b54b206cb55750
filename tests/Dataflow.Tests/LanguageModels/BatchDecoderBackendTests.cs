using Dataflow.Backends;
using Dataflow.Backends.Cpu;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Sessions;
using Dataflow.Generation;
using Dataflow.Graph.Dsl;

namespace Dataflow.Tests.LanguageModels;

/// <summary>The in-place caches on the device backends: the same graphs (store_rows, gathers, masks) give the CPU's logits.</summary>
public class BatchDecoderBackendTests
{
    private const int Context = 16;

    private static float[] Run(IBackend backend)
    {
        var overrides = new Dictionary<string, string>(TinyGpt.Overrides) { ["ctx"] = $"{Context}" };
        using var session = new Session(backend, seed: 7);
        var decoder = new BatchDecoder(session, (length, slots) =>
            ModelLoader.Load(TinyGpt.ModelPath, new ModelOptions(null, overrides, Training: false, CacheLength: length, CacheSlots: slots)), 3, Context, 4);
        var logits = new List<float>();
        logits.AddRange(decoder.Prefill(2, [1, 2, 3, 4, 5, 6]));
        logits.AddRange(decoder.Prefill(0, [9, 8]));
        int[] tokens = [3, 0, 7];
        int[] positions = [2, Context, 6];
        for (int step = 0; step < 4; step++)
        {
            var all = decoder.Decode(tokens, positions);
            logits.AddRange(all);
            for (int s = 0; s < 3; s += 2) { tokens[s] = Sampler.ArgMax(all.AsSpan(s * TinyGpt.Vocab, TinyGpt.Vocab)); positions[s]++; }
        }
        return [.. logits];
    }

    [Theory]
    [InlineData("opencl")]
    [InlineData("vulkan")]
    public void Batched_decoding_on_a_device_backend_matches_the_cpu(string name)
    {
        var cpu = Run(new CpuBackend());
        var device = Run(BackendCatalog.Create(name));
        // Idle slot 1's logits are whatever an idle row computes; compare the rest.
        double worst = 0;
        for (int i = 0; i < cpu.Length; i++)
        {
            int inDecode = i - 2 * TinyGpt.Vocab;
            if (inDecode >= 0 && inDecode / TinyGpt.Vocab % 3 == 1) continue;
            worst = Math.Max(worst, Math.Abs(cpu[i] - device[i]) / Math.Max(1, Math.Abs(cpu[i])));
        }
        Assert.True(worst <= 1e-4, $"{name}: worst relative difference {worst:E3}");
    }
}

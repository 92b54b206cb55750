using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Compile;
using Dataflow.Engine.Jobs;
using Dataflow.Graph.Dsl;
using Dataflow.Runner.Bench;
using Dataflow.Runner.Cli;

namespace Dataflow.Runner.Commands;

/// <summary>
/// <c>dataflow bench gpt-generate</c>: greedy decoding speed of the 15M and 110M GPT shapes (vocab
/// 32000, random weights) at batch 1 and 16, next to the bound the read bandwidth and the FMA peak measured in
/// the same run set (<see cref="DecodeStepBound"/>).
/// </summary>
public static class GenerateBenchCommand
{
    /// <summary>About the longest a row's timed run takes (a loaded machine times fewer tokens), so the whole bench takes minutes.</summary>
    private static readonly TimeSpan RowBudget = TimeSpan.FromSeconds(12);

    public static Command Create()
    {
        var tokens = new Option<int>("--tokens") { Description = "Tokens generated per sequence", DefaultValueFactory = _ => 256 };
        var shapes = new Option<string[]>("--shape") { Description = "15m | 110m (repeatable; default both)" };
        var batches = new Option<int[]>("--batch") { Description = "Sequences decoded together (repeatable; default 1 and 16)" };
        var model = new Option<string?>("--model") { Description = "Model file (default: graph/models/gpt.dfg of this checkout)" };
        var promptTokens = new Option<int>("--prompt-tokens") { Description = "Prompt length of each sequence (time to first token covers its prefill)", DefaultValueFactory = _ => 1 };
        var weights = new Option<string[]>("--weights") { Description = "Weight storage: f32 | bf16 (repeatable; default both; bf16 needs the cpu backend)" };
        var caches = new Option<string[]>("--kv-cache") { Description = "Key/value cache storage: f32 | bf16 (repeatable; default both; bf16 needs the cpu backend)" };
        var profile = new Option<bool>("--profile") { Description = "Also list the decode step's kernels with their times (stderr)" };
        var (seed, json, backend) = (CommonOptions.Seed(), CommonOptions.Json(), CommonOptions.Backend());
        var command = new Command("gpt-generate", "Greedy generation tokens/s of GPT shapes 15m and 110m (vocab 32000, random weights), batch 1 and 16, against the bound of the read bandwidth and the FMA peak")
        {
            tokens, shapes, batches, model, promptTokens, weights, caches, profile, seed, json, backend,
        };
        command.SetAction(r =>
        {
            var output = r.GetValue(json) ? Console.Error : Console.Out;
            string path = r.GetValue(model) ?? Path.Combine(DemoCommand.RepositoryRoot(), "graph", "models", "gpt.dfg");
            var wanted = r.GetValue(shapes) is { Length: > 0 } names
                ? names.Select(n => GenerateShape.All.FirstOrDefault(s => s.Name == n) ?? throw new UsageException($"--shape {n}: expected one of {string.Join(", ", GenerateShape.All.Select(s => s.Name))}")).ToArray()
                : GenerateShape.All;
            int[] batchSizes = r.GetValue(batches) is { Length: > 0 } b ? [.. b.Distinct().Order()] : [1, 16];   // batch 1 first: the others' ratio is to it
            WeightStorage[] storages = r.GetValue(weights) is { Length: > 0 } w ? [.. w.Select(CommonOptions.ParseWeights).Distinct()] : [WeightStorage.F32, WeightStorage.Bf16];
            CacheStorage[] cacheStorages = r.GetValue(caches) is { Length: > 0 } c ? [.. c.Select(CommonOptions.ParseKvCache).Distinct()] : [CacheStorage.F32, CacheStorage.Bf16];
            if (batchSizes.Any(x => x <= 0)) throw new UsageException("--batch: every batch must be positive");
            int count = r.GetValue(tokens);
            if (count <= 0) throw new UsageException($"--tokens {count}: must be positive");
            int prompt = r.GetValue(promptTokens);
            if (prompt <= 0 || wanted.Any(s => prompt > s.Context)) throw new UsageException($"--prompt-tokens {prompt}: must be between 1 and the context");

            var total = Stopwatch.StartNew();
            double peak = FmaPeak.Measure(JobSystem.Shared.WorkerCount);
            output.WriteLine($"gpt-generate: {count} tokens per sequence (fewer, at least 32, where a row would take over {RowBudget.TotalSeconds:F0} s: see tokens), greedy, {JobSystem.Shared.WorkerCount} threads; each row against the read bandwidth measured just before it and the FMA peak ({peak:F0} GFLOP/s, {FmaPeak.VectorBits}-bit) measured at the start");
            output.WriteLine($"(bound: the slower of memory (every weight and the attended cache rows read once per step at that bandwidth) and compute (2 flops per parameter and row, plus attention, at that peak), as if they overlapped;");
            output.WriteLine($" limit: which of the two it is; reference: a run.c-style hand-written batch-1 loop, same shape and weight bytes, this run;");
            output.WriteLine($" x b1: tokens/s over the batch-1 row's; TTFT{GenerateBench.PromptTokens}: one {GenerateBench.PromptTokens}-token prompt alone, submission to first token, median of 5 after its path is warm; one model and decoder per shape serve every batch)");
            output.WriteLine($"{"shape",-6} {"batch",5} {"weights",7} {"cache",5} {"MB",7} {"tokens/s",9} {"ms/token",9} {"tokens",6} {"x b1",6} {"GB/s",6} {"bound tok/s",12} {"limit",7} {"of bound",9} {"ref tok/s",10} {"of ref",7} {$"TTFT{GenerateBench.PromptTokens} ms",10} {"setup+warm+run s",16}");
            var rows = new JsonArray();
            foreach (var shape in wanted)
            {
                // The reference decodes every 8th position of the run's length: the same average attention cost, an eighth of the time.
                double reference = new GenerateReference(shape, r.GetValue(seed)).TokensPerSecond(count, stride: 8);
                GC.Collect();
                foreach (var (storage, cache) in storages.SelectMany(w => cacheStorages.Select(k => (w, k))))
                {
                    using var benchModel = GenerateBenchModel.Open(path, shape, batchSizes.Max(), r.GetValue(seed), r.GetValue(backend)!, CompileOptions.Default, storage, cache);
                    double? single = null;
                    for (int i = 0; i < batchSizes.Length; i++)
                    {
                        int batch = batchSizes[i];
                        var rowClock = Stopwatch.StartNew();
                        double bandwidth = ReadBandwidth.Measure(megabytes: 256, tries: 3);
                        var result = GenerateBench.Run(benchModel, batch, count, r.GetValue(profile) ? Console.Error : null, r.GetValue(promptTokens), first: i == 0, RowBudget);
                        var bound = DecodeStepBound.For(shape, batch, benchModel.WeightBytes, benchModel.ParameterCount, r.GetValue(promptTokens), result.Tokens, bandwidth, peak,
                            cacheValueBytes: cache == CacheStorage.Bf16 ? sizeof(ushort) : sizeof(float));
                        double boundTokens = bound.TokensPerSecond(batch);
                        double seconds = rowClock.Elapsed.TotalSeconds + result.SetupSeconds;
                        if (batch == 1) single = result.TokensPerSecond;
                        double? overSingle = single is { } one ? result.TokensPerSecond / one : null;
                        output.WriteLine($"{result.Shape,-6} {result.Batch,5} {result.Weights,7} {result.Cache,5} {result.WeightBytes / 1e6,7:F0} {result.TokensPerSecond,9:F1} {result.MsPerToken,9:F2} {result.Tokens,6} {(overSingle is { } x ? $"{x:F2}" : "-"),6} {bandwidth,6:F1} {boundTokens,12:F1} {bound.Limit,7} {result.TokensPerSecond / boundTokens,9:P0} {reference,10:F1} {result.TokensPerSecond / reference,7:F2} {result.PromptTimeToFirstTokenMs,10:F1} {$"{result.SetupSeconds:F0}+{result.WarmupSeconds:F0}+{seconds - result.SetupSeconds - result.WarmupSeconds:F0}",16}");
                        rows.Add(new JsonObject
                        {
                            ["shape"] = result.Shape, ["batch"] = result.Batch, ["weights"] = result.Weights, ["kv_cache"] = result.Cache,
                            ["tokens_per_s"] = result.TokensPerSecond, ["ms_per_token"] = result.MsPerToken, ["tokens"] = result.Tokens, ["over_batch_1"] = overSingle,
                            ["read_bandwidth_gb_per_s"] = bandwidth, ["bound_tokens_per_s"] = boundTokens, ["bound_limit"] = bound.Limit, ["fma_peak_gflops"] = peak,
                            ["cache_bytes_per_step"] = bound.CacheBytes, ["reference_tokens_per_s"] = reference,
                            ["time_to_first_token_ms"] = result.TimeToFirstTokenMs, [$"prompt_{GenerateBench.PromptTokens}_time_to_first_token_ms"] = result.PromptTimeToFirstTokenMs,
                            ["weight_bytes"] = result.WeightBytes, ["seconds"] = seconds,
                            ["setup_seconds"] = result.SetupSeconds, ["warmup_seconds"] = result.WarmupSeconds,
                        });
                        GC.Collect();
                    }
                }
            }
            output.WriteLine($"total {total.Elapsed.TotalSeconds:F0} s");
            if (r.GetValue(json)) foreach (var row in rows) Console.WriteLine(row!.ToJsonString());
            return ExitCodes.Ok;
        });
        return command;
    }
}

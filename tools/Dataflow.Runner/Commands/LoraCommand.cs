using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Dataflow.Graph.Checkpoints;
using Dataflow.Graph.Lora;
using Dataflow.Runner.Cli;

namespace Dataflow.Runner.Commands;

/// <summary>
/// <c>dataflow lora merge --base B --adapter A --checkpoint M</c>: folds a LoRA adapter into its base,
/// W + (alpha/r)·A·B, writing a plain checkpoint every verb opens; <c>lora unmerge</c> takes it out again.
/// </summary>
public static class LoraCommand
{
    public static Command Create() => new("lora", "Merge a LoRA adapter into its base checkpoint, or take it out again") { Merge(), Unmerge() };

    private static Command Merge()
    {
        var basePath = new Option<string>("--base") { Description = "The checkpoint the adapter was trained on", Required = true };
        var adapter = new Option<string>("--adapter") { Description = "The adapter file (written by train --lora)", Required = true };
        var checkpoint = new Option<string>("--checkpoint") { Description = "Write the merged checkpoint here", Required = true };
        var command = new Command("merge", "Write base + adapter as one plain checkpoint") { basePath, adapter, checkpoint };
        command.SetAction(r =>
        {
            var clock = Stopwatch.StartNew();
            var lora = LoraAdapter.Read(r.GetValue(adapter)!);
            lora.CheckBase(r.GetValue(basePath)!);
            var merged = LoraMerge.Merge(CheckpointReader.Load(r.GetValue(basePath)!), lora);
            CheckpointWriter.Save(r.GetValue(checkpoint)!, merged);
            Report(r, $"merged {lora.Pairs().Count()} adapters ({lora.Config}) into {r.GetValue(basePath)}", r.GetValue(checkpoint)!, clock);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Unmerge()
    {
        var merged = new Option<string>("--merged") { Description = "A checkpoint written by lora merge", Required = true };
        var adapter = new Option<string>("--adapter") { Description = "The adapter that was merged into it", Required = true };
        var checkpoint = new Option<string>("--checkpoint") { Description = "Write the base weights here", Required = true };
        var command = new Command("unmerge", "Subtract a merged adapter again, giving back the base's weights") { merged, adapter, checkpoint };
        command.SetAction(r =>
        {
            var clock = Stopwatch.StartNew();
            var lora = LoraAdapter.Read(r.GetValue(adapter)!);
            var source = CheckpointReader.Load(r.GetValue(merged)!);
            if (!source.Header.Config.ContainsKey(LoraMerge.MergedKey))
                throw new CheckpointException(r.GetValue(merged)!, "holds no merged adapter (it was not written by lora merge)");
            CheckpointWriter.Save(r.GetValue(checkpoint)!, LoraMerge.Unmerge(source, lora));
            Report(r, $"took {lora.Pairs().Count()} adapters ({lora.Config}) out of {r.GetValue(merged)}", r.GetValue(checkpoint)!, clock);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static void Report(ParseResult r, string what, string path, Stopwatch clock) =>
        r.InvocationConfiguration.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{what}: wrote {path} ({new FileInfo(path).Length:N0} bytes) in {clock.Elapsed.TotalSeconds:F2} s"));
}

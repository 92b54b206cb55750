using System.CommandLine;
using Dataflow.Runner.Cli;
using Dataflow.Runner.Commands;

namespace Dataflow.Runner;

public static class Program
{
    public static int Main(string[] args)
    {
        var root = new RootCommand("dataflow: train, evaluate, inspect and benchmark neural networks declared in .dfg graph files")
        {
            TrainCommand.Create(),
            EvalCommand.Create(),
            InspectCommand.Create(),
            DemoCommand.Create(),
            TokenizerCommand.Create(),
            ConformanceCommand.Create(),
            DevicesCommand.Create(),
            GenerateCommand.Create(),
            SftCommand.Create(),
            ChatCommand.Create(),
            BenchCommand.Create(),
            LoraCommand.Create(),
            RlCommand.Create(),
            SpeedrunCommand.Create(),
            DpoCommand.Create(),
            RewardCommand.Create(),
        };
        int verbosity = VerbosityOf(args);
        try
        {
            var parsed = root.Parse(args);
            if (parsed.Errors.Count > 0)
            {
                foreach (var error in parsed.Errors) Console.Error.WriteLine("dataflow: " + error.Message);
                Console.Error.WriteLine("Run 'dataflow --help' for usage.");
                return ExitCodes.BadInput;
            }
            FlagRules.Check(parsed);
            return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e)
        {
            return ErrorReporter.Report(e, verbosity);
        }
    }

    private static int VerbosityOf(string[] args)
    {
        int i = Array.IndexOf(args, "--verbose");
        return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], out var v) ? v : 0;
    }
}

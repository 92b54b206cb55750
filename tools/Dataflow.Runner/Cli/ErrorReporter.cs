using Dataflow.Engine;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Compile;
using Dataflow.Engine.Data;
using Dataflow.Engine.Frame;
using Dataflow.Engine.Tokenizers;
using Dataflow.Generation;
using Dataflow.Graph.Checkpoints;
using Dataflow.Graph.Dsl;
using Dataflow.Graph.Ir;
using Dataflow.Graph.Lora;
using Dataflow.Graph.Tensors;
using Dataflow.Mpi;
using Dataflow.Training;

namespace Dataflow.Runner.Cli;

/// <summary>
/// Turns an exception into one clear message on stderr and an exit code. User mistakes never show
/// a stack trace; only a bug does, and only with --verbose.
/// </summary>
public static class ErrorReporter
{
    /// <param name="prefix">put before the message: which rank of a distributed run failed</param>
    public static int Report(Exception exception, int verbosity, string prefix = "")
    {
        if (exception is AggregateException { InnerExceptions.Count: 1 } aggregate) exception = aggregate.InnerExceptions[0];
        var (code, message) = exception switch
        {
            DfgException e => (ExitCodes.BadInput, e.Diagnostic.ToString()),
            CheckpointException or DataException or FeedException or TokenizerException or UsageException or ShapeException or GraphException or CompileException
                or ConfigurationException or LoraException or TrainingDivergedException or NonFiniteLogitsException or DeviceMemoryException
                => (ExitCodes.BadInput, exception.Message),
            FileNotFoundException or DirectoryNotFoundException => (ExitCodes.BadInput, exception.Message),
            UnauthorizedAccessException or IOException => (ExitCodes.BadInput, exception.Message),
            KernelCompileException or BackendUnavailableException => (ExitCodes.Environment, exception.Message),
            Chat.Tasks.WordListUnavailableException => (ExitCodes.Environment, exception.Message),
            // No libmpi, or an MPI call failed (a launcher, network or peer problem): the environment.
            MpiUnavailableException or MpiException => (ExitCodes.Environment, exception.Message),
            _ => (ExitCodes.Internal, $"internal error: {exception.GetType().Name}: {exception.Message}" +
                  (verbosity > 0 ? Environment.NewLine + exception.StackTrace : " (run with --verbose 1 for the stack trace)")),
        };
        Console.Error.WriteLine("dataflow: " + prefix + message);
        return code;
    }
}

namespace Dataflow.Runner.Cli;

/// <summary>What the runner's exit status means; scripts rely on these.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>The input was wrong: a model file, a flag, a checkpoint, a data file.</summary>
    public const int BadInput = 1;
    /// <summary>The environment was wrong: no device for the backend, a driver or kernel compiler failed.</summary>
    public const int Environment = 2;
    /// <summary>A bug in Dataflow itself.</summary>
    public const int Internal = 3;
}

/// <summary>A mistake in how the runner was called; the message says what to change.</summary>
public sealed class UsageException(string message) : Exception(message);

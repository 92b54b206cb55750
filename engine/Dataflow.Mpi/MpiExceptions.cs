namespace Dataflow.Mpi;

/// <summary>libmpi could not be loaded or lacks a symbol we need: the environment is wrong (the CLI's exit 2).</summary>
public sealed class MpiUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>An MPI call returned an error; names the call and carries MPI's own error string.</summary>
public sealed class MpiException(string call, int errorCode, string errorText)
    : Exception($"{call} failed with MPI error {errorCode}: {errorText}")
{
    public string Call { get; } = call;
    public int ErrorCode { get; } = errorCode;
}

/// <summary>A collective was called with arguments that cannot work (mismatched lengths, bad root).</summary>
public sealed class CommunicatorUsageException(string message) : Exception(message);

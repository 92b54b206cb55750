namespace Dataflow.Mpi.Probe;

/// <summary>A collective produced the wrong result on this rank.</summary>
internal sealed class ProbeFailure(string message) : Exception(message);

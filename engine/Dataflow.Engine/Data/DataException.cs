namespace Dataflow.Engine.Data;

/// <summary>A data set could not be found or read. User-facing: the message names the file and the problem.</summary>
public sealed class DataException(string message, Exception? inner = null) : Exception(message, inner);

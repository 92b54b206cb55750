namespace Dataflow.Engine;

/// <summary>
/// A run was set up wrong: a setting out of range, a model that does not fit the data or task it was
/// given, an unknown name (dataset, task, backend). The message names the setting and what to change.
/// </summary>
public sealed class ConfigurationException(string message, Exception? inner = null) : Exception(message, inner);

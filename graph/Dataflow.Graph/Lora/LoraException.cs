namespace Dataflow.Graph.Lora;

/// <summary>A LoRA setting is wrong (an unknown target, a rank below 1, a malformed <c>--lora</c> value): the user's input, never a bug.</summary>
public sealed class LoraException(string message) : Exception(message);

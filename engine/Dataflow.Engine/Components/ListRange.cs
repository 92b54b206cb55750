namespace Dataflow.Engine.Components;

/// <summary>A run of entries in a shared list resource (<see cref="SharedList{T}"/>, <see cref="NameTable"/>): how a component holds a short list and stays unmanaged.</summary>
public readonly record struct ListRange(int Start, int Count);

namespace Dataflow.Engine.Backends.Sources;

/// <summary>
/// What a generated-source backend decides about its kernels before <see cref="KernelEmitter"/>
/// picks an emitter: sizes from the device's limits and the backend's kernel plan. Everything
/// else an emitter needs comes from the spec.
/// </summary>
/// <param name="Backend">The backend's name, for the errors of specs it has no kernel for.</param>
/// <param name="Group">Work-items per group for trees and tiles: a power of two within the device's limits.</param>
/// <param name="MaxGroup">The largest power-of-two group the device allows: how wide a reduction tree may grow.</param>
/// <param name="ReduceSerialLimit">Up to this many reduced elements per output, a work-item per output (<see cref="ReduceEmitter.Generate"/>).</param>
/// <param name="LoopBudget">Loop iterations one work-item may run (<see cref="Sources.LoopBudget"/>).</param>
/// <param name="BlockedMatMul">MatMul as register blocks of this shape, or null for local-memory tiles of <paramref name="Tile"/>.</param>
/// <param name="Tile">The square tile of the local-memory matmul.</param>
/// <param name="Parallelism">Work-items the device runs at once, roughly: what the scatter plan weighs its two shapes by.</param>
public sealed record EmitPlan(string Backend, int Group, int MaxGroup, long ReduceSerialLimit, long LoopBudget, MatMulBlocking? BlockedMatMul, int Tile, long Parallelism);

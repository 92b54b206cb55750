namespace Dataflow.Mpi;

/// <summary>The reductions an all-reduce can apply elementwise across ranks.</summary>
public enum ReduceOp
{
    Sum,
    Max,
    Min,
}

namespace Dataflow.Graph.Ops;

/// <summary>
/// The closed set of primitive ops. Everything a model file can say lowers to these, so a backend
/// that implements them runs every model. Adding one means a catalog entry (<see cref="OpCatalog"/>),
/// a kernel per backend and a conformance case. An elementwise op is four files: its value here, its
/// catalog entry (scalar semantics, gradient, operand domains, DSL name), one CPU SIMD case
/// (FusedElementwiseKernel) and one device expression (ElementwiseEmitter, for OpenCL C and GLSL);
/// its conformance cases, finite-difference check and DSL function follow from the catalog entry.
/// </summary>
public enum OpCode : byte
{
    // Leaves: values that come from outside the graph or are generated from attributes alone.
    Input,
    Parameter,
    Constant,
    Iota,
    CausalMask,
    DropoutMask,

    // Elementwise unary.
    Neg,
    Exp,
    Log,
    Sqrt,
    Recip,
    Tanh,
    Sin,
    Silu,
    Relu2,
    Cast,
    Detach,

    // Elementwise binary, NumPy broadcasting.
    Add,
    Sub,
    Mul,
    Div,
    Max,
    Greater,
    Equal,

    // Reductions.
    ReduceSum,
    ReduceMax,

    // Movement.
    Reshape,
    Permute,
    Expand,

    // Contraction.
    MatMul,

    // Indexing.
    Gather,
    ScatterAdd,
    OneHot,
    StoreRows,

    // Attention of new queries over a key/value cache (decode mode only).
    CachedAttention,
}

/// <summary>What kind of work an op does; fusion and the backends group ops by it.</summary>
public enum OpKind : byte
{
    Leaf,
    Elementwise,
    Reduction,
    Movement,
    Contraction,
    Index,
}

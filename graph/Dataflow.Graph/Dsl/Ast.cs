namespace Dataflow.Graph.Dsl;

// The syntax tree of a .dfg file. Every node keeps the location diagnostics point at.

public abstract record Expr(Loc Loc);
public sealed record NumberExpr(Loc Loc, double Value) : Expr(Loc);
public sealed record BoolExpr(Loc Loc, bool Value) : Expr(Loc);
public sealed record NameExpr(Loc Loc, string Name) : Expr(Loc);
/// <summary>A bracketed list, <c>[B, T * d]</c>: shapes, permutations, axis sets.</summary>
public sealed record ListExpr(Loc Loc, IReadOnlyList<Expr> Items) : Expr(Loc);
/// <summary><c>-x</c>; the location is the operator's.</summary>
public sealed record NegateExpr(Loc Loc, Expr Operand) : Expr(Loc);
/// <summary><c>a op b</c> with op one of + - * /; the location is the operator's.</summary>
public sealed record BinaryExpr(Loc Loc, char Op, Expr Left, Expr Right) : Expr(Loc);
/// <summary><c>f(a, b, k = v)</c>; the location is the callee name's.</summary>
public sealed record CallExpr(Loc Loc, string Callee, IReadOnlyList<Arg> Args) : Expr(Loc);

/// <summary>A call argument: positional when <see cref="Name"/> is null.</summary>
public sealed record Arg(Loc Loc, string? Name, Expr Value);

public abstract record Stmt(Loc Loc);
/// <summary><c>model name(p = default, ...)</c>: defaults may use parameters declared before them.</summary>
public sealed record ModelStmt(Loc Loc, string Name, IReadOnlyList<Arg> Parameters) : Stmt(Loc);
public sealed record PresetStmt(Loc Loc, string Name, IReadOnlyList<Arg> Values) : Stmt(Loc);
public sealed record InputStmt(Loc Loc, string Name, string DType, Loc DTypeLoc, IReadOnlyList<Expr> Dims) : Stmt(Loc);
public sealed record OutputStmt(Loc Loc, IReadOnlyList<NameExpr> Names) : Stmt(Loc);
/// <summary><c>optimizer</c>, <c>schedule</c>, <c>train</c> and <c>lora</c> lines: a setting kind, a name (empty for train and lora) and arguments.</summary>
public sealed record DefaultsStmt(Loc Loc, string Kind, string Name, IReadOnlyList<Arg> Args) : Stmt(Loc);
public sealed record BlockStmt(Loc Loc, string Name, IReadOnlyList<string> Parameters, IReadOnlyList<Stmt> Body) : Stmt(Loc);
public sealed record AssignStmt(Loc Loc, string Target, Expr Value) : Stmt(Loc);
public sealed record ReturnStmt(Loc Loc, Expr Value) : Stmt(Loc);

public sealed record ModelFile(IReadOnlyList<Stmt> Statements);

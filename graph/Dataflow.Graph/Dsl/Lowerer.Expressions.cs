using Dataflow.Graph.Ir;
using Dataflow.Graph.Tensors;

namespace Dataflow.Graph.Dsl;

internal sealed partial class Lowerer
{
    /// <summary>
    /// Evaluates an expression. <paramref name="nameHint"/> is the assignment target when the
    /// expression is the whole right-hand side: a layer call there takes that name (<c>l1 = linear(...)</c>
    /// makes <c>l1.weight</c>); calls elsewhere are named after their kind.
    /// </summary>
    private Value Evaluate(Expr expr, string? nameHint = null)
    {
        switch (expr)
        {
            case NumberExpr n: return new NumberValue(n.Value);
            case BoolExpr b: return new BoolValue(b.Value);
            case NameExpr name:
                if (_env.TryGet(name.Name, out var value)) return value;
                if (_blocks.TryGetValue(name.Name, out var block)) return new BlockValue(block);
                return new SymbolValue(name.Name, name.Loc);
            case ListExpr list: return new ListValue(list.Items.Select(EvaluateDim).ToList());
            case NegateExpr neg:
                var operand = Evaluate(neg.Operand);
                if (operand is NumberValue number) return new NumberValue(-number.Number);
                var x = ToNode(operand, neg.Operand.Loc, null, neg.Loc);
                return new TensorValue(_context.Guard(neg.Loc, "", () => _builder.Neg(x)));
            case BinaryExpr binary: return Arithmetic(binary);
            case CallExpr call: return Call(call, nameHint);
            default: throw _source.Error(expr.Loc, "unsupported expression");
        }
    }

    private Value Arithmetic(BinaryExpr e)
    {
        var left = Evaluate(e.Left);
        var right = Evaluate(e.Right);
        if (left is NumberValue a && right is NumberValue b)
        {
            if (e.Op == '/' && b.Number == 0) throw _source.Error(e.Loc, "division by zero");
            return new NumberValue(e.Op switch
            {
                '+' => a.Number + b.Number,
                '-' => a.Number - b.Number,
                '*' => a.Number * b.Number,
                _ => a.Number / b.Number,
            });
        }
        // Between tensors (or a tensor and a number) the builder broadcasts; a deferred tensor
        // takes its length from the tensor it meets.
        var l = ToNode(left, e.Left.Loc, right as TensorValue, e.Loc);
        var r = ToNode(right, e.Right.Loc, left as TensorValue, e.Loc);
        return new TensorValue(_context.Guard(e.Loc, "", () => e.Op switch
        {
            '+' => _builder.Add(l, r),
            '-' => _builder.Sub(l, r),
            '*' => _builder.Mul(l, r),
            _ => _builder.Div(l, r),
        }));
    }

    /// <summary>A value as a graph node for arithmetic: numbers become scalar constants.</summary>
    private Node ToNode(Value value, Loc loc, TensorValue? partner, Loc opLoc)
    {
        switch (value)
        {
            case TensorValue t: return t.Node;
            case NumberValue n: return _builder.Scalar(n.Number);
            case SymbolValue s: throw _context.UnknownName(s);
            case DeferredTensor d when partner is not null:
                if (partner.Node.Shape.Rank < 2)
                    throw _source.Error(opLoc, $"{d.Kind}(...) takes its length from a tensor of shape [..., T, d], but the other operand is {partner.Describe()}");
                return _context.Guard(opLoc, d.Kind, () => d.Build(partner.Node.Shape.At(-2)));
            default:
                throw _source.Error(loc, $"arithmetic needs tensors or numbers; this is {value.Describe()}");
        }
    }

    /// <summary>
    /// A dimension: whole numbers, model parameters, and symbols (names starting with a capital
    /// letter that are not parameters, like B and T), combined with + - * and exact /.
    /// </summary>
    private Dim EvaluateDim(Expr expr)
    {
        switch (expr)
        {
            case NumberExpr n:
                return WholeDim(n.Value, n.Loc);
            case NameExpr name when _env.TryGet(name.Name, out var value):
                return value is NumberValue number
                    ? WholeDim(number.Number, name.Loc)
                    : throw _source.Error(name.Loc, $"a dimension must be a number, a parameter or a symbol; '{name.Name}' is {value.Describe()}");
            case NameExpr name when char.IsAsciiLetterUpper(name.Name[0]):
                return Dim.Symbol(name.Name);
            case NameExpr name:
                throw _source.Error(name.Loc, $"unknown name '{name.Name}'{NameHint(name.Name, name.Loc, VisibleNames())} (dimension symbols start with a capital letter, like B or T)");
            case NegateExpr neg:
                return EvaluateDim(neg.Operand) * Dim.Const(-1);
            case BinaryExpr b:
                var left = EvaluateDim(b.Left);
                var right = EvaluateDim(b.Right);
                switch (b.Op)
                {
                    case '+': return left + right;
                    case '-': return left - right;
                    case '*': return left * right;
                }
                if (!right.IsConstant || right.Value == 0 || left.DivideExactly(right.Value) is not { } quotient)
                    throw _source.Error(b.Loc, $"{left} is not exactly divisible by {right}");
                return quotient;
            default:
                throw _source.Error(expr.Loc, "expected a dimension (a whole number, a parameter, or a symbol like B)");
        }
    }

    private Dim WholeDim(double value, Loc loc) =>
        value == Math.Floor(value) && Math.Abs(value) < 1e15 ? Dim.Const((long)value)
            : throw _source.Error(loc, $"a dimension must be a whole number, got {value}");

    private List<ArgValue> EvaluateArgs(CallExpr call) =>
        call.Args.Select(a => new ArgValue(a.Name, Evaluate(a.Value), a.Loc)).ToList();

    private Value Call(CallExpr call, string? nameHint)
    {
        // Variables and calls live apart unless the variable holds a layer object: a parameter
        // named 'dropout' does not hide the function dropout(x, p).
        _env.TryGet(call.Callee, out var target);
        if (target is LayerObject layer)
        {
            var bound = CallArgs.Bind(call.Callee, call.Loc, layer.Signature, EvaluateArgs(call), _context);
            return _context.RunLayer(layer.Kind, layer.Name, call.Loc, () => layer.Apply(bound, _context), layer.TakeUnreportedParameters());
        }
        if (call.Callee == "repeat") return Repeat(call);
        if (_blocks.TryGetValue(call.Callee, out var block))
            return InvokeBlock(block, EvaluateArgs(call), call.Loc, _context.UniqueName(nameHint ?? block.Name));
        if (LayerRegistry.TryGet(call.Callee, out var def))
        {
            var args = CallArgs.Bind(call.Callee, call.Loc, def.Signature, EvaluateArgs(call), _context);
            return _context.RunLayer(def.Name, _context.UniqueName(nameHint ?? def.Name), call.Loc, () => def.Lower(args, _context));
        }
        if (target is not null)
            throw _source.Error(call.Loc, $"'{call.Callee}' is {target.Describe()}, not something that can be called");
        var callable = LayerRegistry.Names.Concat(_blocks.Keys).Append("repeat")
            .Concat(_env.Names.Where(n => _env.TryGet(n, out var v) && v is LayerObject));
        throw _source.Error(call.Loc, $"unknown layer or function '{call.Callee}'{NameHint(call.Callee, call.Loc, callable)}");
    }

    /// <summary>The most graph nodes one lowering builds: past it a repeat is refused before it spends minutes and gigabytes.</summary>
    internal const long MaxGraphNodes = 20_000_000;

    /// <summary>Copies after the first see the same types (the block maps its input type to itself), so they are alike.</summary>
    private static bool CopiesAreAlike(Value input, Value output) =>
        input is TensorValue a && output is TensorValue b && a.Node.Type.Equals(b.Node.Type);

    /// <summary>n copies must have a 64-bit parameter count and, when <paramref name="built"/>, a graph of bounded size.</summary>
    private void CheckCopiesFit(CallExpr call, BlockStmt block, long n, long perCopy, long nodesPerCopy, bool built)
    {
        if (perCopy > 0 && n > long.MaxValue / perCopy)
            throw _source.Error(call.Loc, $"repeat: {n} copies of '{block.Name}' with {perCopy:N0} parameters each make more than 2^63 - 1 parameters");
        if (built && nodesPerCopy > 0 && n > MaxGraphNodes / nodesPerCopy)
            throw _source.Error(call.Loc, $"repeat: {n:N0} copies of '{block.Name}' ({nodesPerCopy:N0} graph nodes each) are more than one graph may hold " +
                $"({MaxGraphNodes:N0} nodes); `dataflow inspect` counts such a model without building it");
    }

    /// <summary>
    /// <c>repeat(n, block, x, extra...)</c>: n copies of the block, each in its own scope
    /// (<c>block.0</c>, <c>block.1</c>, ...) and so with its own parameters; the output of one is
    /// the first argument of the next, the extra arguments go to every copy unchanged.
    /// </summary>
    private Value Repeat(CallExpr call)
    {
        var args = EvaluateArgs(call);
        if (args.Count < 3 || args.Take(3).Any(a => a.Name is not null))
            throw _source.Error(call.Loc, "repeat takes (n, block, x, more block arguments...), the first three positional");
        var n = args[0].Value is NumberValue { Number: var count } && count >= 0 && count == Math.Floor(count) && count < 9.2e18
            ? (long)count
            : throw _source.Error(args[0].Loc, $"repeat: n must be a whole number >= 0, got {args[0].Value.Describe()}");
        var block = args[1].Value switch
        {
            BlockValue b => b.Block,
            SymbolValue s => throw _source.Error(s.Loc, $"repeat: unknown block '{s.Name}'{Suggest.Hint(s.Name, _blocks.Keys)}"),
            var other => throw _source.Error(args[1].Loc, $"repeat: the second argument must be a block, got {other.Describe()}"),
        };
        var rest = args.Skip(2).ToList();
        using var scope = _builder.Scope(_context.UniqueName(block.Name));
        for (long i = 0; i < n; i++)
        {
            int parametersBefore = _graph.Parameters.Count, nodesBefore = _graph.Nodes.Count;
            var input = rest[0].Value;
            var result = InvokeBlock(block, rest, call.Loc, i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            rest[0] = rest[0] with { Value = result };
            if (i == 0 && n > 1)
            {
                bool alike = CopiesAreAlike(input, result);
                var perCategory = _graph.Parameters.Skip(parametersBefore).GroupBy(p => p.Category)
                    .ToDictionary(g => g.Key, g => _context.Guard(call.Loc, "repeat", () => g.Aggregate(0L, (sum, p) => checked(sum + p.Node.Shape.ElementCount()))));
                long perCopy = perCategory.Values.Aggregate(0L, (a, b) => checked(a + b));
                CheckCopiesFit(call, block, n, alike ? perCopy : 0, _graph.Nodes.Count - nodesBefore, built: !(alike && _options.CountOnly));
                if (alike && _options.CountOnly)
                {
                    var type = ((TensorValue)result).Node.Type;
                    _graph.AddRepeatedCopies(new RepeatedCopies($"{_builder.CurrentScope}.0", block.Name, n - 1, perCopy, perCategory, type));
                    // One row standing for the copies not built, so a layer table still adds up.
                    _graph.AddLayer(new LayerInfo(n == 2 ? $"{_builder.CurrentScope}.1" : $"{_builder.CurrentScope}.1..{n - 1}",
                        $"{block.Name} x{n - 1:N0}", type, perCopy * (n - 1), _builder.CurrentScope));
                    break;
                }
            }
        }
        return rest[0].Value;
    }
}

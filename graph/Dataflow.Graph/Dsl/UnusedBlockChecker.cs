namespace Dataflow.Graph.Dsl;

/// <summary>
/// Checks a block that the model never calls, as a compiler checks a function nobody calls: every
/// function or layer it calls and every name it reads must exist, and it must return. Without this,
/// a typo in an unused block (or in one a later --set would enable) passed silently. Shapes cannot
/// be checked without arguments, so that waits for a call.
/// </summary>
internal sealed class UnusedBlockChecker(SourceText source, IReadOnlyCollection<string> globals, IReadOnlyCollection<string> blocks,
    Func<string, bool> isBuiltIn, Func<string, Loc, IEnumerable<string>, string> hint)
{
    public void Check(BlockStmt block)
    {
        var locals = new HashSet<string>(block.Parameters, StringComparer.Ordinal);
        bool returns = false;
        foreach (var statement in block.Body)
        {
            switch (statement)
            {
                case AssignStmt assign:
                    CheckExpr(assign.Value, locals, symbolAllowed: false);
                    locals.Add(assign.Target);
                    break;
                case ReturnStmt ret:
                    CheckExpr(ret.Value, locals, symbolAllowed: false);
                    returns = true;
                    break;
            }
        }
        if (!returns) throw source.Error(block.Loc, $"block '{block.Name}' ends without 'return'");
    }

    private bool Known(string name, HashSet<string> locals) =>
        locals.Contains(name) || globals.Contains(name) || blocks.Contains(name);

    private IEnumerable<string> Candidates(HashSet<string> locals) => locals.Concat(globals).Concat(blocks);

    private void CheckExpr(Expr expr, HashSet<string> locals, bool symbolAllowed)
    {
        switch (expr)
        {
            // A bare name as a call argument may be a symbol (act = gelu, positions(learned, ...)).
            case NameExpr name when !symbolAllowed && !Known(name.Name, locals):
                throw source.Error(name.Loc, $"unknown name '{name.Name}'{hint(name.Name, name.Loc, Candidates(locals))}");
            case ListExpr list:
                foreach (var item in list.Items) CheckExpr(item, locals, symbolAllowed: true);    // dimension symbols
                break;
            case NegateExpr negate:
                CheckExpr(negate.Operand, locals, symbolAllowed);
                break;
            case BinaryExpr binary:
                CheckExpr(binary.Left, locals, symbolAllowed: false);
                CheckExpr(binary.Right, locals, symbolAllowed: false);
                break;
            case CallExpr call:
                if (!isBuiltIn(call.Callee) && !Known(call.Callee, locals))
                    throw source.Error(call.Loc, $"unknown layer or function '{call.Callee}'{hint(call.Callee, call.Loc, Candidates(locals))}");
                foreach (var arg in call.Args) CheckExpr(arg.Value, locals, symbolAllowed: true);
                break;
        }
    }
}

using Dataflow.Graph.Ir;
using Dataflow.Graph.Lora;
using Dataflow.Graph.Tensors;

namespace Dataflow.Graph.Dsl;

/// <summary>
/// Executes a parsed model file top to bottom, building its graph: inputs become input nodes,
/// assignments evaluate expressions (layer calls lower to primitives), outputs and the loss are
/// recorded. Expressions are in <c>Lowerer.Expressions.cs</c>.
/// </summary>
internal sealed partial class Lowerer
{
    private readonly SourceText _source;
    private readonly ModelFile _file;
    private readonly ModelOptions _options;
    private readonly Dictionary<string, BlockStmt> _blocks = new(StringComparer.Ordinal);
    private readonly Env _globals = new(null);
    private Env _env;
    private ComputeGraph _graph = null!;
    private GraphBuilder _builder = null!;
    private LowerContext _context = null!;
    private ModelStmt _model = null!;
    private int _blockDepth;

    public Lowerer(SourceText source, ModelFile file, ModelOptions options)
    {
        _source = source;
        _file = file;
        _options = options;
        _env = _globals;
    }

    public LoadedModel Run(string sourcePath)
    {
        _model = _file.Statements.FirstOrDefault() as ModelStmt
            ?? throw _source.Error(_file.Statements.FirstOrDefault()?.Loc ?? new Loc(1, 1), "a model file starts with 'model name(parameter = default, ...)'");
        var presets = _file.Statements.OfType<PresetStmt>().ToList();
        var settings = ModelSettings.Resolve(_source, _model, presets, _options);
        var training = TrainingDefaultsReader.Read(_source, _file.Statements.OfType<DefaultsStmt>().Where(s => s.Kind != "lora"), settings);
        var declaredLora = LoraDeclarationReader.Read(_source, _file.Statements.OfType<DefaultsStmt>(), settings);

        _graph = new ComputeGraph(_model.Name) { Settings = settings };
        _builder = new GraphBuilder(_graph);
        if (_options.CacheLength is { } cacheLength && (cacheLength <= 0 || _options.Training))
            throw _source.Error(_model.Loc, cacheLength <= 0
                ? $"a key/value cache needs a positive length, got {cacheLength}"
                : "decode mode (a key/value cache) is for inference; load the model with training off");
        if (_options.CacheSlots is <= 0) throw _source.Error(_model.Loc, $"a key/value cache needs a positive number of slots, got {_options.CacheSlots}");
        _context = new LowerContext(_source, _builder, _options.Training, VisibleNames) { CacheLength = _options.CacheLength, CacheSlots = _options.CacheSlots, Cache = _options.Cache, NameHint = NameHint, Lora = _options.Lora };
        foreach (var (name, value) in settings) _globals.Set(name, new NumberValue(value));
        CollectBlocks();

        foreach (var statement in _file.Statements.Skip(1))
        {
            // Decode mode only predicts (its prefill graph projects one row per sequence): it has no loss.
            if (_options.CacheLength is not null && statement is AssignStmt { Target: "loss" }) continue;
            ExecuteGuarded(statement);
        }
        CheckUnusedBlocks();
        if (_options.Lora is { } lora) FreezeBase(lora);

        if (_globals.TryGet("loss", out var loss))
        {
            var lossLoc = _file.Statements.OfType<AssignStmt>().LastOrDefault(s => s.Target == "loss")?.Loc ?? _model.Loc;
            if (loss is not TensorValue { Node: var node } || node.Shape.Rank != 0 || node.DType != DType.F32)
                throw _source.Error(lossLoc, $"'loss' must be a scalar f32 tensor, got {loss.Describe()}");
            _graph.Loss = node;
            _graph.SetOutput("loss", node);
        }

        try
        {
            _graph.ParameterCount();
        }
        catch (GraphException e)
        {
            throw _source.Error(_model.Loc, e.Message);
        }

        // No layer, no output, no loss: nothing to compute, which is what a file cut short before
        // (or inside) its first layer looks like.
        if (_graph.Outputs.Count == 0 && _graph.Layers.Count == 0)
            throw EndOfText("has no layers, no 'output' and no 'loss' (is the file cut short?)");

        return new LoadedModel
        {
            Graph = _graph,
            Name = _model.Name,
            SourcePath = sourcePath,
            Settings = settings,
            Presets = presets.Select(p => p.Name).ToList(),
            Training = training,
            DeclaredLora = declaredLora,
        };
    }

    /// <summary>Every target must adapt some linear (a typo would otherwise train nothing); then all but the adapters is frozen.</summary>
    private void FreezeBase(LoraConfig lora)
    {
        foreach (var target in lora.Targets)
            if (!_context.LinearRoles.Contains(target))
                throw _source.Error(_model.Loc, $"LoRA target '{target}' ({LoraTargets.Roles[target]}) matches no linear of model {_model.Name}" +
                                                (_context.LinearRoles.Count == 0 ? " (it has none that LoRA can adapt)" : $" (its linears: {string.Join(", ", _context.LinearRoles.Order(StringComparer.Ordinal))})"));
        if (lora.TokenRows.Count > 0 && !_context.TokenRowsAdapted)
            throw _source.Error(_model.Loc, $"LoRA tokens=special: model {_model.Name} has no embedding(...) table whose rows could train");
        _graph.FreezeAllBut(p => p.Category == ParamCategory.Adapter);
    }

    private IEnumerable<string> VisibleNames() => _env.Names.Concat(_blocks.Keys);

    private readonly HashSet<string> _calledBlocks = new(StringComparer.Ordinal);

    /// <summary>Blocks the model never called are still checked for unknown names and a return.</summary>
    private void CheckUnusedBlocks()
    {
        var checker = new UnusedBlockChecker(_source, [.. _globals.Names], _blocks.Keys,
            name => name == "repeat" || LayerRegistry.TryGet(name, out _), NameHint);
        foreach (var block in _blocks.Values.Where(b => !_calledBlocks.Contains(b.Name)).OrderBy(b => b.Loc.Line))
            checker.Check(block);
    }

    /// <summary>An error about the model as a whole, placed where its text ends.</summary>
    private DfgException EndOfText(string problem)
    {
        var lines = _source.Text.Replace("\r\n", "\n").Split('\n');
        int last = lines.Length;
        while (last > 1 && lines[last - 1].Trim().Length == 0) last--;
        var loc = new Loc(last, _source.Line(last).Length + 1);
        return _source.Error(loc, $"the text ends here, at line {loc.Line} column {loc.Column}, and the model {problem}");
    }

    /// <summary>
    /// The hint for an unknown name: when the file defines it further down (an assignment or input
    /// after the use), say so, as the suggestion of the name itself would be useless; else the nearest name.
    /// </summary>
    private string NameHint(string name, Loc use, IEnumerable<string> candidates)
    {
        var later = Definitions(_file.Statements).FirstOrDefault(d => d.Name == name && (d.Loc.Line > use.Line || (d.Loc.Line == use.Line && d.Loc.Column > use.Column)));
        return later.Name is null ? Suggest.Hint(name, candidates)
            : $" ('{name}' is defined later, at line {later.Loc.Line}; define it before this use)";
    }

    private static IEnumerable<(string Name, Loc Loc)> Definitions(IEnumerable<Stmt> statements)
    {
        foreach (var statement in statements)
        {
            switch (statement)
            {
                case AssignStmt a: yield return (a.Target, a.Loc); break;
                case InputStmt i: yield return (i.Name, i.Loc); break;
                case BlockStmt b:
                    foreach (var d in Definitions(b.Body)) yield return d;
                    break;
            }
        }
    }

    private void CollectBlocks()
    {
        foreach (var block in _file.Statements.OfType<BlockStmt>())
        {
            if (_blocks.TryGetValue(block.Name, out var first))
                throw _source.Error(block.Loc, $"block '{block.Name}' is declared twice (first at line {first.Loc.Line})");
            if (LayerRegistry.TryGet(block.Name, out _) || block.Name == "repeat")
                throw _source.Error(block.Loc, $"block '{block.Name}' has the name of a built-in layer or function");
            _blocks[block.Name] = block;
        }
    }

    /// <summary>Runs a statement; an exception that is not already a diagnostic is a bug, reported at the statement.</summary>
    private Value? ExecuteGuarded(Stmt statement)
    {
        try
        {
            return Execute(statement);
        }
        catch (Exception e) when (e is not DfgException)
        {
            throw _source.Error(statement.Loc, $"internal error while lowering this line: {e.GetType().Name}: {e.Message}");
        }
    }

    /// <summary>Executes one statement; returns the value of a <c>return</c>.</summary>
    private Value? Execute(Stmt statement)
    {
        switch (statement)
        {
            case ModelStmt m:
                throw _source.Error(m.Loc, "a file declares one model; this is the second 'model' line");
            case PresetStmt or BlockStmt or DefaultsStmt:
                return null;    // read before execution starts
            case InputStmt input:
                DeclareInput(input);
                return null;
            case AssignStmt assign:
                Assign(assign);
                return null;
            case OutputStmt output:
                foreach (var name in output.Names)
                {
                    var value = Evaluate(name);
                    if (value is not TensorValue t)
                        throw value is SymbolValue s ? _context.UnknownName(s) : _source.Error(name.Loc, $"only tensors can be outputs; '{name.Name}' is {value.Describe()}");
                    _graph.SetOutput(name.Name, t.Node);
                }
                return null;
            case ReturnStmt ret:
                return Evaluate(ret.Value);
            default:
                throw _source.Error(statement.Loc, "this statement is not supported here");
        }
    }

    private void DeclareInput(InputStmt input)
    {
        CheckAssignable(input.Name, input.Loc);
        if (_globals.TryGet(input.Name, out _))
            throw _source.Error(input.Loc, $"'{input.Name}' is already defined");
        if (!DTypeExtensions.TryParse(input.DType, out var dtype))
            throw _source.Error(input.DTypeLoc, $"unknown element type '{input.DType}' (f32 or i32)");
        var dims = input.Dims.Select(d =>
        {
            var dim = EvaluateDim(d);
            if (dim.IsConstant && dim.Value <= 0) throw _source.Error(d.Loc, $"a dimension must be positive, got {dim.Value}");
            return dim;
        }).ToList();
        var node = _builder.Input(input.Name, new TensorType(dtype, new Shape(dims)));
        _globals.Set(input.Name, new TensorValue(node));
    }

    private void Assign(AssignStmt assign)
    {
        CheckAssignable(assign.Target, assign.Loc);
        // A call assigned to a fresh name takes that name (l1 = linear(...) makes l1.weight);
        // reassignments (x = relu(x) in a block) leave the call named after its kind.
        var value = Evaluate(assign.Value, nameHint: _env.TryGet(assign.Target, out _) ? null : assign.Target);
        switch (value)
        {
            case SymbolValue s: throw _context.UnknownName(s);
            case BlockValue b: throw _source.Error(assign.Value.Loc, $"a block cannot be assigned; call it, as {b.Block.Name}(...), or pass it to repeat");
        }
        _env.Set(assign.Target, value);
    }

    private void CheckAssignable(string name, Loc loc)
    {
        if (_model.Parameters.Any(p => p.Name == name))
            throw _source.Error(loc, $"'{name}' is a parameter of model {_model.Name} and cannot be assigned; use --set {name}=... or a preset");
        if (_blocks.ContainsKey(name))
            throw _source.Error(loc, $"'{name}' is the name of a block");
    }

    /// <summary>Runs a block's body in a fresh local scope with its parameters bound; returns what it returns.</summary>
    private Value InvokeBlock(BlockStmt block, IReadOnlyList<ArgValue> args, Loc loc, string scopeName)
    {
        var bound = new Value?[block.Parameters.Count];
        int position = 0;
        foreach (var arg in args)
        {
            int index = arg.Name is null ? position++ : block.Parameters.ToList().IndexOf(arg.Name);
            if (index < 0 || index >= bound.Length)
                throw _source.Error(arg.Loc, arg.Name is null
                    ? $"block {block.Name} takes {bound.Length} argument(s) ({string.Join(", ", block.Parameters)})"
                    : $"block {block.Name} has no parameter '{arg.Name}'{Suggest.Hint(arg.Name, block.Parameters)}");
            if (bound[index] is not null) throw _source.Error(arg.Loc, $"block {block.Name}: '{block.Parameters[index]}' is given twice");
            bound[index] = arg.Value;
        }
        for (int i = 0; i < bound.Length; i++)
            if (bound[i] is null) throw _source.Error(loc, $"block {block.Name} needs the argument '{block.Parameters[i]}'");
        if (_blockDepth >= 32) throw _source.Error(loc, $"blocks call each other too deeply (is '{block.Name}' recursive?)");
        _calledBlocks.Add(block.Name);

        return _context.RunLayer(block.Name, scopeName, loc, () =>
        {
            var saved = _env;
            _env = new Env(_globals);
            _blockDepth++;
            try
            {
                for (int i = 0; i < bound.Length; i++) _env.Set(block.Parameters[i], bound[i]!);
                foreach (var statement in block.Body)
                    if (ExecuteGuarded(statement) is { } result) return result;
                throw _source.Error(block.Loc, $"block '{block.Name}' ends without 'return'");
            }
            finally
            {
                _env = saved;
                _blockDepth--;
            }
        });
    }
}

using System.Globalization;
using Dataflow.Graph.Ir;
using Dataflow.Graph.Tensors;

namespace Dataflow.Graph.Dsl;

/// <summary>An evaluated call argument, with where it was written.</summary>
public sealed record ArgValue(string? Name, Value Value, Loc Loc);

/// <summary>
/// The arguments of one call, bound to the callee's signature, with typed accessors that turn a
/// wrong argument into a diagnostic pointing at that argument.
/// </summary>
public sealed class CallArgs
{
    private readonly Dictionary<string, ArgValue> _bound = new(StringComparer.Ordinal);
    private readonly LowerContext _context;

    private CallArgs(string callee, Loc loc, LowerContext context)
    {
        Callee = callee;
        Loc = loc;
        _context = context;
    }

    public string Callee { get; }
    public Loc Loc { get; }

    public static CallArgs Bind(string callee, Loc loc, string[] signature, IReadOnlyList<ArgValue> args, LowerContext context)
    {
        var result = new CallArgs(callee, loc, context);
        var names = signature.Select(s => s.TrimEnd('?')).ToArray();
        int position = 0;
        foreach (var arg in args)
        {
            string name;
            if (arg.Name is null)
            {
                if (position >= names.Length)
                    throw context.Error(arg.Loc, $"{callee} takes at most {names.Length} positional argument(s) ({string.Join(", ", names)})");
                name = names[position++];
            }
            else
            {
                if (!names.Contains(arg.Name))
                    throw context.Error(arg.Loc, $"{callee} has no argument '{arg.Name}'{Suggest.Hint(arg.Name, names)} (arguments: {string.Join(", ", names)})");
                name = arg.Name;
            }
            if (!result._bound.TryAdd(name, arg with { Name = name }))
                throw context.Error(arg.Loc, $"{callee}: argument '{name}' is given twice");
        }
        foreach (var s in signature)
            if (!s.EndsWith('?') && !result._bound.ContainsKey(s))
                throw context.Error(loc, $"{callee} needs the argument '{s}' ({string.Join(", ", names)})");
        return result;
    }

    public bool Has(string name) => _bound.ContainsKey(name);

    public Value? Raw(string name) => _bound.TryGetValue(name, out var a) ? a.Value : null;

    /// <summary>Where the argument was written, or the call itself when it was left out.</summary>
    public Loc LocOf(string name) => _bound.TryGetValue(name, out var a) ? a.Loc : Loc;

    public DfgException Error(string name, string message) => _context.Error(LocOf(name), $"{Callee}: {message}");

    public Node Tensor(string name)
    {
        var value = Raw(name)!;
        return value switch
        {
            TensorValue t => t.Node,
            SymbolValue s => throw _context.UnknownName(s),
            DeferredTensor d => throw Error(name, $"'{name}' is {d.Describe()}; add it to a tensor of shape [..., T, d] or give length ="),
            _ => throw Error(name, $"'{name}' must be a tensor, got {value.Describe()}"),
        };
    }

    /// <summary>A tensor argument that may be left out or given as <c>none</c>.</summary>
    public Node? OptionalTensor(string name) =>
        Raw(name) is null or SymbolValue { Name: "none" } ? null : Tensor(name);

    public double Number(string name, double? fallback = null)
    {
        var value = Raw(name);
        if (value is null) return fallback ?? throw Error(name, $"needs '{name}'");
        return value switch
        {
            NumberValue n => n.Number,
            SymbolValue s => throw _context.UnknownName(s),
            _ => throw Error(name, $"'{name}' must be a number, got {value.Describe()}"),
        };
    }

    public long Integer(string name, long? fallback = null)
    {
        if (Raw(name) is null && fallback is not null) return fallback.Value;
        var number = Number(name);
        if (number != Math.Floor(number) || Math.Abs(number) > 1e15)
            throw Error(name, $"'{name}' must be a whole number, got {number.ToString(CultureInfo.InvariantCulture)}");
        return (long)number;
    }

    /// <summary>A size: a positive whole number.</summary>
    public Dim Size(string name)
    {
        var n = Integer(name);
        if (n <= 0) throw Error(name, $"'{name}' must be positive, got {n}");
        return Dim.Const(n);
    }

    public bool Bool(string name, bool fallback)
    {
        var value = Raw(name);
        return value switch
        {
            null => fallback,
            BoolValue b => b.Flag,
            SymbolValue s => throw _context.UnknownName(s),
            _ => throw Error(name, $"'{name}' must be true or false, got {value.Describe()}"),
        };
    }

    /// <summary>An enum-like bare name, one of <paramref name="allowed"/>.</summary>
    public string Choice(string name, string fallback, params string[] allowed)
    {
        var value = Raw(name);
        if (value is null) return fallback;
        if (value is SymbolValue s && allowed.Contains(s.Name)) return s.Name;
        var got = value is SymbolValue sym ? $"'{sym.Name}'{Suggest.Hint(sym.Name, allowed)}" : value.Describe();
        throw Error(name, $"'{name}' must be one of {string.Join(", ", allowed)}; got {got}");
    }

    /// <summary>A list of dimensions; a single number counts as a list of one.</summary>
    public IReadOnlyList<Dim> Dims(string name)
    {
        var value = Raw(name);
        return value switch
        {
            ListValue l => l.Items,
            NumberValue => [Dim.Const(Integer(name))],
            SymbolValue s => throw _context.UnknownName(s),
            _ => throw Error(name, $"'{name}' must be a list like [1, 2] or a number, got {value?.Describe() ?? "nothing"}"),
        };
    }

    /// <summary>Axes as integers (possibly negative); defaults to the last axis.</summary>
    public int[] Axes(string name, int fallback = -1)
    {
        if (Raw(name) is null) return [fallback];
        return Dims(name).Select(d =>
            d.IsConstant ? (int)d.Value : throw Error(name, $"axes must be whole numbers, got {d}")).ToArray();
    }
}

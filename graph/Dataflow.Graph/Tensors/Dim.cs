using System.Collections.Immutable;
using System.Text;

namespace Dataflow.Graph.Tensors;

/// <summary>
/// One dimension of a shape: a polynomial with integer coefficients over named symbols
/// (<c>B</c>, <c>T</c>, <c>B*T</c>, <c>4*T + 1</c>). Kept in a normal form (terms sorted, like terms
/// merged, zero terms dropped) so that structural equality is mathematical equality.
/// </summary>
public sealed class Dim : IEquatable<Dim>
{
    /// <summary>A monomial: coefficient times the product of the symbols (sorted, repeated for powers).</summary>
    public readonly record struct Term(long Coefficient, ImmutableArray<string> Symbols)
    {
        public string Key => string.Join("*", Symbols);
    }

    public ImmutableArray<Term> Terms { get; }

    private Dim(ImmutableArray<Term> terms) => Terms = terms;

    public static Dim Const(long value) =>
        value == 0 ? new Dim(ImmutableArray<Term>.Empty) : new Dim(ImmutableArray.Create(new Term(value, ImmutableArray<string>.Empty)));

    public static Dim Symbol(string name) => new(ImmutableArray.Create(new Term(1, ImmutableArray.Create(name))));

    public static implicit operator Dim(long value) => Const(value);

    public bool IsConstant => Terms.Length == 0 || (Terms.Length == 1 && Terms[0].Symbols.IsEmpty);

    /// <summary>The value when <see cref="IsConstant"/>; throws otherwise.</summary>
    public long Value => IsConstant
        ? (Terms.Length == 0 ? 0 : Terms[0].Coefficient)
        : throw new InvalidOperationException($"dimension {this} is symbolic");

    public IEnumerable<string> FreeSymbols => Terms.SelectMany(t => t.Symbols).Distinct();

    // Constant operands are by far the most common (every fixed width); they skip normalisation,
    // which keeps building large graphs (GPT-3: ~8k nodes) fast.
    public static Dim operator +(Dim a, Dim b) =>
        a.IsConstant && b.IsConstant ? Const(Checked(a.Value, b.Value, '+'))
        : a.Terms.Length == 0 ? b : b.Terms.Length == 0 ? a : Normalize(a.Terms.Concat(b.Terms));

    public static Dim operator -(Dim a, Dim b) => a + (b * -1);

    public static Dim operator *(Dim a, Dim b)
    {
        if (a.IsConstant && b.IsConstant) return Const(Checked(a.Value, b.Value, '*'));
        if (a.IsConstant && a.Value == 1) return b;
        if (b.IsConstant && b.Value == 1) return a;
        var terms = new List<Term>();
        foreach (var x in a.Terms)
            foreach (var y in b.Terms)
                terms.Add(new Term(Checked(x.Coefficient, y.Coefficient, '*'), x.Symbols.AddRange(y.Symbols).Sort(StringComparer.Ordinal)));
        return Normalize(terms);
    }

    /// <summary>Sizes are 64-bit and checked: a product past 2^63 is an error, never a wrapped (negative) size.</summary>
    private static long Checked(long a, long b, char op)
    {
        try
        {
            return op == '*' ? checked(a * b) : checked(a + b);
        }
        catch (OverflowException)
        {
            throw new ShapeException($"the dimension {a} {op} {b} does not fit in 64 bits (more than 2^63 - 1)");
        }
    }

    /// <summary>Exact division by a constant; null when some coefficient is not divisible.</summary>
    public Dim? DivideExactly(long divisor)
    {
        if (divisor == 0 || Terms.Any(t => t.Coefficient % divisor != 0)) return null;
        return Normalize(Terms.Select(t => t with { Coefficient = t.Coefficient / divisor }));
    }

    /// <summary>Substitutes symbol values; symbols not bound are an error naming the symbol.</summary>
    public long Evaluate(IReadOnlyDictionary<string, long> bindings)
    {
        long total = 0;
        foreach (var term in Terms)
        {
            long product = term.Coefficient;
            foreach (var symbol in term.Symbols)
            {
                if (!bindings.TryGetValue(symbol, out var value))
                    throw new KeyNotFoundException($"dimension symbol '{symbol}' has no value");
                product *= value;
            }
            total += product;
        }
        return total;
    }

    private static Dim Normalize(IEnumerable<Term> terms)
    {
        var merged = new SortedDictionary<string, Term>(StringComparer.Ordinal);
        foreach (var term in terms)
        {
            var key = term.Key;
            merged[key] = merged.TryGetValue(key, out var existing)
                ? existing with { Coefficient = existing.Coefficient + term.Coefficient }
                : term;
        }
        return new Dim(merged.Values.Where(t => t.Coefficient != 0).ToImmutableArray());
    }

    public bool Equals(Dim? other)
    {
        if (other is null || other.Terms.Length != Terms.Length) return false;
        for (int i = 0; i < Terms.Length; i++)
            if (Terms[i].Coefficient != other.Terms[i].Coefficient || !Terms[i].Symbols.SequenceEqual(other.Terms[i].Symbols)) return false;
        return true;
    }

    public override bool Equals(object? obj) => Equals(obj as Dim);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var t in Terms)
        {
            hash.Add(t.Coefficient);
            foreach (var symbol in t.Symbols) hash.Add(symbol);
        }
        return hash.ToHashCode();
    }

    public static bool operator ==(Dim? a, Dim? b) => a is null ? b is null : a.Equals(b);
    public static bool operator !=(Dim? a, Dim? b) => !(a == b);

    public override string ToString()
    {
        if (Terms.Length == 0) return "0";
        var sb = new StringBuilder();
        foreach (var term in Terms.Reverse())
        {
            var coefficient = term.Coefficient;
            if (sb.Length > 0) { sb.Append(coefficient < 0 ? " - " : " + "); coefficient = Math.Abs(coefficient); }
            if (term.Symbols.IsEmpty) sb.Append(coefficient);
            else
            {
                if (coefficient == -1) sb.Append('-');
                else if (coefficient != 1) sb.Append(coefficient).Append('*');
                sb.Append(term.Key);
            }
        }
        return sb.ToString();
    }
}

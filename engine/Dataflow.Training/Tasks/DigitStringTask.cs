using Dataflow.Engine.Data;

namespace Dataflow.Training.Tasks;

/// <summary>Tasks whose source is a uniformly random digit string and whose target is a function of it.</summary>
public abstract class DigitStringTask : ITransductionTask
{
    protected DigitStringTask(int minLength, int maxLength)
    {
        if (minLength < 1 || maxLength < minLength)
            throw new ArgumentOutOfRangeException(nameof(minLength), $"lengths must satisfy 1 <= min <= max, got {minLength}..{maxLength}");
        (MinLength, MaxLength) = (minLength, maxLength);
    }

    public abstract string Name { get; }
    public int MinLength { get; }
    public int MaxLength { get; }

    public TransductionSample Sample(SeededRandom random, int length)
    {
        if (length < MinLength || length > MaxLength)
            throw new ArgumentOutOfRangeException(nameof(length), length, $"{Name} sources are {MinLength}..{MaxLength} tokens long");
        var source = new int[length];
        for (int i = 0; i < length; i++) source[i] = TransductionVocabulary.Digit(random.NextInt(10));
        return new TransductionSample(source, Transform(source));
    }

    /// <summary>The target for <paramref name="source"/>; must not modify it.</summary>
    public abstract int[] Transform(int[] source);
}

/// <summary><c>reverse</c>: 01234 → 43210.</summary>
public sealed class ReverseTask(int minLength = 5, int maxLength = 20) : DigitStringTask(minLength, maxLength)
{
    public override string Name => "reverse";

    public override int[] Transform(int[] source)
    {
        var target = (int[])source.Clone();
        Array.Reverse(target);
        return target;
    }
}

/// <summary><c>sort</c>: 31415 → 11345 (digit ids are in digit order, so sorting ids sorts digits).</summary>
public sealed class SortTask(int minLength = 5, int maxLength = 20) : DigitStringTask(minLength, maxLength)
{
    public override string Name => "sort";

    public override int[] Transform(int[] source)
    {
        var target = (int[])source.Clone();
        Array.Sort(target);
        return target;
    }
}

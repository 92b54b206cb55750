namespace Dataflow.Conformance.Harness;

/// <summary>How far one tensor is from its reference; <see cref="Mismatch"/> is set when they cannot be compared numerically.</summary>
public readonly record struct Comparison(double Nmse, double MaxRelError, string? Mismatch)
{
    public static readonly Comparison Exact = new(0, 0, null);
}

/// <summary>
/// ggml test-backend-ops' normalised mean squared error, NMSE = Σ(a−b)² / Σb², plus the largest
/// elementwise relative error. Non-finite values are checked first and must match exactly in kind
/// (a NaN where the reference is finite fails, and so does a finite value where it is NaN or ±Inf);
/// matching non-finite pairs are left out of the sums.
/// </summary>
public static class ErrorMetrics
{
    /// <summary>
    /// Relative errors are measured against max(|b_i|, this × RMS(b)), so an element that is near zero
    /// only through cancellation (common in gradients) is judged on the tensor's own scale.
    /// </summary>
    public const double RelativeFloor = 1e-3;

    public static Comparison Compare(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected)
    {
        if (actual.Length != expected.Length)
            return new Comparison(double.PositiveInfinity, double.PositiveInfinity, $"{actual.Length} values where the reference has {expected.Length}");

        double sumSquares = 0;
        int finite = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double a = actual[i], b = expected[i];
            if (double.IsFinite(b))
            {
                if (!double.IsFinite(a)) return new Comparison(double.PositiveInfinity, double.PositiveInfinity, $"element {i} is {a} where the reference is {b}");
                sumSquares += b * b;
                finite++;
            }
            else if (double.IsNaN(b) ? !double.IsNaN(a) : a != b)
                return new Comparison(double.PositiveInfinity, double.PositiveInfinity, $"element {i} is {a} where the reference is {b}");
        }

        double floor = Math.Max(RelativeFloor * Math.Sqrt(sumSquares / Math.Max(1, finite)), double.Epsilon);
        double sumErrors = 0, maxRel = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double a = actual[i], b = expected[i];
            if (!double.IsFinite(b)) continue;
            double d = a - b;
            sumErrors += d * d;
            maxRel = Math.Max(maxRel, Math.Abs(d) / Math.Max(Math.Abs(b), floor));
        }
        // An all-zero reference has no scale: then the squared error itself must be (near) zero.
        double nmse = sumSquares > 0 ? sumErrors / sumSquares : sumErrors;
        return new Comparison(nmse, maxRel, null);
    }

    public static Comparison Compare(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        var wide = new double[expected.Length];
        for (int i = 0; i < wide.Length; i++) wide[i] = expected[i];
        return Compare(actual, wide);
    }
}

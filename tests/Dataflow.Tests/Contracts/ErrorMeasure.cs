using Xunit.Abstractions;

namespace Dataflow.Tests.Contracts;

/// <summary>
/// How far a backend's result is from the CPU's: ggml's normalised mean squared error
/// (sum of squared differences over sum of squared reference values) and the largest element-wise
/// relative error, measured against max(|reference|, 1) so values near zero are judged absolutely.
/// Non-finite values must match exactly (NaN with NaN, inf with the same inf).
/// </summary>
internal static class ErrorMeasure
{
    /// <summary>ggml test-backend-ops' default bound.</summary>
    public const double Nmse = 1e-7;

    /// <summary>
    /// The max relative error (floor 1) allowed against the exact result for a float sum of
    /// <paramref name="terms"/> terms in [-1, 1] (dot products, scatter-add rows): 6e-7·√terms, ten float
    /// ulps (2⁻²⁴) per √term. The rounding errors of the partial sums add up like a random walk, so the
    /// error grows like √terms; the backends measure up to 2.9e-7·√terms (matmul with K = 130 and 200,
    /// scatter-add of 385 terms 3.9e-7·√terms), a long blocked K = 30000 only 4.9e-8·√terms.
    /// </summary>
    public static double SumBound(long terms) => 6e-7 * Math.Sqrt(terms);

    public static (double Nmse, double MaxRelative) Of(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        double diff = 0, norm = 0, worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            float e = expected[i], a = actual[i];
            if (!float.IsFinite(e) || !float.IsFinite(a))
            {
                bool same = (float.IsNaN(e) && float.IsNaN(a)) || e == a;
                if (!same) return (double.PositiveInfinity, double.PositiveInfinity);
                continue;
            }
            double d = (double)a - e;
            diff += d * d;
            norm += (double)e * e;
            worst = Math.Max(worst, Math.Abs(d) / Math.Max(Math.Abs(e), 1.0));
        }
        return (norm == 0 ? diff : diff / norm, worst);
    }

    /// <summary>Asserts both bounds, and logs the measured errors (run with a detailed console logger to see them).</summary>
    public static void AssertClose(float[] expected, float[] actual, double maxRelative, string what, ITestOutputHelper? log = null)
    {
        var (nmse, rel) = Of(expected, actual);
        log?.WriteLine($"{what}: nmse {nmse:E2}, max relative {rel:E2}");
        Assert.True(nmse <= Nmse, $"{what}: NMSE {nmse:E3} exceeds {Nmse:E1} (max relative {rel:E3})");
        Assert.True(rel <= maxRelative, $"{what}: max relative error {rel:E3} exceeds {maxRelative:E1}");
    }

    /// <summary>Movement, indexing, masks: the same bits, element for element.</summary>
    public static void AssertIdentical(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        var e = KernelRunner.Bits(expected);
        var a = KernelRunner.Bits(actual);
        for (int i = 0; i < e.Length; i++)
            if (e[i] != a[i]) Assert.Fail($"{what}: element {i} is {actual[i]} (0x{a[i]:x8}), the CPU gives {expected[i]} (0x{e[i]:x8})");
    }
}

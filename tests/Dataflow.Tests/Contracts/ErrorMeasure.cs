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

using System.Numerics.Tensors;
using Dataflow.Engine.Backends;

namespace Dataflow.Tests.Cpu;

/// <summary>
/// The gelu kernel's stages against the unfused ops formed one after another with TensorPrimitives, bit for bit:
/// every stage stored (the element-at-a-time path), or only those training stores (the vector path), over sizes
/// whose chunks end in a partial vector and whose bias rows straddle chunks.
/// </summary>
public class GeluKernelTests
{
    private const float CubeScale = 0.044715f, InnerScale = 0.7978846f, HalfScale = 0.5f, One = 1f;

    public static TheoryData<int, int, bool> Sizes => new()
    {
        { 3, 347, true },     // 1041 elements: one chunk, one element past the last vector
        { 5, 421, true },     // 2105: two chunks, the second takes the remainder
        { 2, 515, false },    // no bias
    };

    [Theory]
    [MemberData(nameof(Sizes))]
    public void EveryStageStoredIsTheUnfusedOpsBits(int rows, int width, bool bias) =>
        AssertStages(rows, width, bias, Enum.GetValues<GeluStage>().Where(s => bias || s != GeluStage.Biased).ToArray());

    [Theory]
    [MemberData(nameof(Sizes))]
    public void TrainingsStagesAreTheUnfusedOpsBits(int rows, int width, bool bias) =>
        AssertStages(rows, width, bias, bias ? [GeluStage.Output, GeluStage.Biased, GeluStage.Tanh] : [GeluStage.Output, GeluStage.Tanh]);

    private static void AssertStages(int rows, int width, bool bias, GeluStage[] stages)
    {
        int n = rows * width;
        var a = CpuHarness.Random(n, seed: 3, scale: 3f);
        var b = CpuHarness.Random(width, seed: 4);
        var spec = new GeluSpec(rows, width, bias, CubeScale, InnerScale, HalfScale, One, [.. stages]);
        var outputs = CpuHarness.Run(spec, bias ? [a, b] : [a], [.. stages.Select(_ => (long)n)]);
        var expected = Unfused(a, bias ? b : null, width);
        for (int i = 0; i < stages.Length; i++)
            for (int e = 0; e < n; e++)
                Assert.True(BitConverter.SingleToInt32Bits(expected[stages[i]][e]) == BitConverter.SingleToInt32Bits(outputs[i][e]),
                    $"{stages[i]}[{e}]: {outputs[i][e]:R}, unfused {expected[stages[i]][e]:R}");
    }

    /// <summary>Each stage as its own TensorPrimitives call over the whole tensor, in the catalog's order.</summary>
    private static Dictionary<GeluStage, float[]> Unfused(float[] a, float[]? bias, int width)
    {
        float[] New() => new float[a.Length];
        var x = a;
        var stages = new Dictionary<GeluStage, float[]>();
        if (bias is not null)
        {
            x = New();
            for (int row = 0; row < a.Length / width; row++)
                TensorPrimitives.Add(a.AsSpan(row * width, width), bias, x.AsSpan(row * width, width));
            stages[GeluStage.Biased] = x;
        }
        float[] Stage(GeluStage stage, Action<float[]> form) { var s = New(); form(s); stages[stage] = s; return s; }
        var square = Stage(GeluStage.Square, s => TensorPrimitives.Multiply(x, x, s));
        var cube = Stage(GeluStage.Cube, s => TensorPrimitives.Multiply(square, x, s));
        var scaled = Stage(GeluStage.ScaledCube, s => TensorPrimitives.Multiply(cube, CubeScale, s));
        var sum = Stage(GeluStage.InnerSum, s => TensorPrimitives.Add(x, scaled, s));
        var inner = Stage(GeluStage.Inner, s => TensorPrimitives.Multiply(sum, InnerScale, s));
        var half = Stage(GeluStage.Half, s => TensorPrimitives.Multiply(x, HalfScale, s));
        var tanh = Stage(GeluStage.Tanh, s => TensorPrimitives.Tanh(inner, s));
        var onePlus = Stage(GeluStage.OnePlus, s => TensorPrimitives.Add(tanh, One, s));
        Stage(GeluStage.Output, s => TensorPrimitives.Multiply(half, onePlus, s));
        return stages;
    }
}

using System.Text;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Backends.Sources;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;

namespace Dataflow.Backends.OpenCL.Sources;

/// <summary>
/// One kernel per fused elementwise program: a work-item per output element, each register a
/// private float, each load an index expression with the input's broadcast baked in. Values are
/// float throughout, as on the CPU backend; i32 inputs convert on load and i32 outputs on store.
/// </summary>
internal static class FusedElementwiseSource
{
    private static readonly CDialect Dialect = new("opencl", ClCode.Float);

    public static KernelSource Generate(FusedElementwiseSpec spec)
    {
        spec.Validate();
        long n = spec.Elements;
        var sb = ClCode.Preamble(spec.DisplayName, ClCode.Wide([n, .. spec.Inputs.Select(i => i.Elements)]));
        var helpers = ElementwiseEmitter.Helpers(spec.Program);
        if (helpers.Contains(ElementwiseEmitter.MaxHelper)) sb.AppendLine(MaxHelper);
        if (helpers.Contains(ElementwiseEmitter.TanhHelper)) sb.AppendLine(TanhHelper);

        var args = spec.Inputs.Select((d, i) => $"__global const {ClCode.CType(d.DType)}* in{i}")
            .Concat(spec.OutputTypes.Select((t, j) => $"__global {ClCode.CType(t)}* out{j}"));
        sb.Append("__kernel void fused(").AppendJoin(", ", args).AppendLine(")");
        sb.AppendLine("{");
        sb.AppendLine("    idx_t i = get_global_id(0);");
        sb.Append("    if (i >= ").Append(ClCode.Int(n)).AppendLine(") return;");

        for (int r = 0; r < spec.Program.Length; r++)
        {
            var ins = spec.Program[r];
            sb.Append("    float r").Append(r).Append(" = ");
            switch (ins.Op)
            {
                case FusedOp.Constant:
                    sb.Append(ClCode.Float(ins.Value));
                    break;
                case FusedOp.Load:
                    var input = spec.Inputs[ins.A];
                    sb.Append(ClCode.AsFloat(input.DType, $"in{ins.A}[{ClCode.BroadcastIndex("i", input.Shape, spec.Shape)}]"));
                    break;
                default:
                    sb.Append(ElementwiseEmitter.Expression(ins, Dialect, $"r{ins.A}", $"r{ins.B}"));
                    break;
            }
            sb.AppendLine(";");
        }

        for (int j = 0; j < spec.Outputs.Length; j++)
        {
            int r = spec.Outputs[j];
            sb.Append("    out").Append(j).Append("[i] = ")
              .Append(spec.OutputTypes[j] == DType.I32 ? $"convert_int_sat_rtz(r{r})" : $"r{r}").AppendLine(";");
        }
        sb.AppendLine("}");

        long[] buffers = [.. spec.Inputs.Select(i => i.Elements), .. spec.Outputs.Select(_ => n)];
        return new KernelSource(sb.ToString(), ["fused"], buffers, [n]);
    }

    /// <summary>
    /// Max follows the CPU's TensorPrimitives.Max: a NaN operand wins (itself, payload and sign
    /// included), and +0 is larger than -0 (fmax may return either zero, which would flip the sign
    /// of a later division).
    /// </summary>
    private const string MaxHelper = """
        inline float df_max(float a, float b)
        {
            if (isnan(a)) return a;
            if (isnan(b)) return b;
            if (a == b) return signbit(a) ? b : a;
            return a > b ? a : b;
        }
        """;

    /// <summary>
    /// tanh rounds to ±1 in float beyond |x| = 9, but an implementation may return 1 − ulp there
    /// (PoCL does): then the gradient 1 − tanh² is 1.2e−7 instead of 0, which a large factor (the
    /// x³ of GELU at |x| = 1e4) turns into a gradient of thousands. Saturate exactly, as the CPU does.
    /// </summary>
    private const string TanhHelper = """
        inline float df_tanh(float x)
        {
            if (fabs(x) > 9.0f) return x > 0.0f ? 1.0f : -1.0f;
            return tanh(x);
        }
        """;
}

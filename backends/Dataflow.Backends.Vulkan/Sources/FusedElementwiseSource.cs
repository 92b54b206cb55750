using System.Text;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Backends.Sources;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;

namespace Dataflow.Backends.Vulkan.Sources;

/// <summary>
/// One shader per fused elementwise program: an invocation per output element, each register a
/// <c>precise</c> float, each load an index expression with the input's broadcast baked in. Values
/// are float throughout, as on the CPU backend; i32 inputs convert on load and i32 outputs on store.
/// </summary>
internal static class FusedElementwiseSource
{
    private static readonly CDialect Dialect = new("glsl", GlslCode.Float);

    public static KernelSource Generate(FusedElementwiseSpec spec, int group)
    {
        spec.Validate();
        int inputs = spec.Inputs.Length;
        long n = spec.Elements;
        var sb = GlslCode.Preamble(spec.DisplayName, group);
        for (int i = 0; i < inputs; i++) GlslCode.Buffer(sb, i, GlslCode.Type(spec.Inputs[i].DType), $"in{i}", readOnly: true);
        for (int j = 0; j < spec.OutputTypes.Length; j++) GlslCode.Buffer(sb, inputs + j, GlslCode.Type(spec.OutputTypes[j]), $"out{j}", readOnly: false);
        sb.AppendLine(GlslCode.Helpers); // defines every helper ElementwiseEmitter calls

        var body = new StringBuilder();
        for (int r = 0; r < spec.Program.Length; r++)
        {
            var ins = spec.Program[r];
            body.Append("precise float r").Append(r).Append(" = ");
            switch (ins.Op)
            {
                case FusedOp.Constant:
                    body.Append(GlslCode.Float(ins.Value));
                    break;
                case FusedOp.Load:
                    var input = spec.Inputs[ins.A];
                    body.Append(GlslCode.AsFloat(input.DType, $"in{ins.A}[{GlslCode.BroadcastIndex("i", input.Shape, spec.Shape)}]"));
                    break;
                default:
                    body.Append(ElementwiseEmitter.Expression(ins, Dialect, $"r{ins.A}", $"r{ins.B}"));
                    break;
            }
            body.Append(";\n");
        }
        for (int j = 0; j < spec.Outputs.Length; j++)
        {
            int r = spec.Outputs[j];
            body.Append("out").Append(j).Append("[i] = ").Append(spec.OutputTypes[j] == DType.I32 ? $"df_to_int(r{r})" : $"r{r}").Append(';');
            if (j + 1 < spec.Outputs.Length) body.Append('\n');
        }
        GlslCode.GridLoop(sb, n, body.ToString());

        long[] buffers = [.. spec.Inputs.Select(i => i.Elements), .. spec.Outputs.Select(_ => n)];
        return new KernelSource([sb.ToString()], buffers, [n], [group]);
    }
}

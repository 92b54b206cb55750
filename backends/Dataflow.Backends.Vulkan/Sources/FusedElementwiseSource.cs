using System.Text;
using Dataflow.Engine.Backends;
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
    public static KernelSource Generate(FusedElementwiseSpec spec, int group)
    {
        spec.Validate();
        int inputs = spec.Inputs.Length;
        long n = spec.Elements;
        var sb = GlslCode.Preamble(spec.DisplayName, group);
        for (int i = 0; i < inputs; i++) GlslCode.Buffer(sb, i, GlslCode.Type(spec.Inputs[i].DType), $"in{i}", readOnly: true);
        for (int j = 0; j < spec.OutputTypes.Length; j++) GlslCode.Buffer(sb, inputs + j, GlslCode.Type(spec.OutputTypes[j]), $"out{j}", readOnly: false);
        sb.AppendLine(GlslCode.Helpers);

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
                    body.Append(Compute(ins));
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

    private static string Compute(FusedInstruction ins)
    {
        string a = $"r{ins.A}", b = $"r{ins.B}";
        return ins.Code switch
        {
            OpCode.Neg => $"-{a}",
            OpCode.Exp => $"exp({a})",
            OpCode.Log => $"log({a})",
            OpCode.Sqrt => $"sqrt({a})",
            OpCode.Recip => $"1.0 / {a}",
            OpCode.Tanh => $"df_tanh({a})",
            OpCode.Sin => $"sin({a})",
            OpCode.Cast when ins.CastTo == DType.I32 => $"trunc({a})",
            OpCode.Cast or OpCode.Detach => a,
            OpCode.Add => $"{a} + {b}",
            OpCode.Sub => $"{a} - {b}",
            OpCode.Mul => $"{a} * {b}",
            OpCode.Div => $"{a} / {b}",
            OpCode.Max => $"df_max({a}, {b})",
            OpCode.Greater => $"({a} > {b}) ? 1.0 : 0.0",
            OpCode.Equal => $"({a} == {b}) ? 1.0 : 0.0",
            _ => throw new NotSupportedException($"fused: {OpCatalog.Get(ins.Code).Name} is not an elementwise op"),
        };
    }
}

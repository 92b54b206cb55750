using System.Text;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;

namespace Dataflow.Engine.Backends.Sources;

/// <summary>
/// One kernel per fused elementwise program: each output element's work evaluates the program in
/// registers (float temporaries that round as written), each load an index expression with the
/// input's broadcast baked in. Values are float throughout, as on the CPU backend; i32 inputs
/// convert on load and i32 outputs on store (saturating, as .NET's cast).
/// </summary>
public static class FusedElementwiseEmitter
{
    public static EmittedKernel Generate(FusedElementwiseSpec spec, CDialect d)
    {
        spec.Validate();
        long n = spec.Elements;
        var body = new StringBuilder();
        for (int r = 0; r < spec.Program.Length; r++)
        {
            var ins = spec.Program[r];
            body.Append(d.FloatLet).Append(" r").Append(r).Append(" = ");
            switch (ins.Op)
            {
                case FusedOp.Constant:
                    body.Append(d.Float(ins.Value));
                    break;
                case FusedOp.Load:
                    var input = spec.Inputs[ins.A];
                    body.Append(d.AsFloat(input.DType, $"in{ins.A}[{d.BroadcastIndex("i", input.Shape, spec.Shape)}]"));
                    break;
                default:
                    body.Append(ElementwiseEmitter.Expression(ins, d, $"r{ins.A}", $"r{ins.B}"));
                    break;
            }
            body.Append(";\n");
        }
        for (int j = 0; j < spec.Outputs.Length; j++)
        {
            string r = $"r{spec.Outputs[j]}";
            body.Append("out").Append(j).Append("[i] = ").Append(spec.OutputTypes[j] == DType.I32 ? d.SaturatingInt(r) : r).Append(';');
            if (j + 1 < spec.Outputs.Length) body.Append('\n');
        }

        KernelBuffer[] buffers = [
            .. spec.Inputs.Select((input, i) => new KernelBuffer(CDialect.Type(input.DType), $"in{i}", ReadOnly: true)),
            .. spec.OutputTypes.Select((t, j) => new KernelBuffer(CDialect.Type(t), $"out{j}"))];
        var kernel = new ElementKernel("fused", buffers, n, body.ToString(), Helpers: d.Helpers(ElementwiseEmitter.Helpers(spec.Program)));
        return EmittedKernel.Of(kernel, [.. spec.Inputs.Select(i => i.Elements), .. spec.Outputs.Select(_ => n)]);
    }
}

using Dataflow.Engine.Backends;
using Dataflow.Engine.Components;
using Dataflow.Engine.Frame;
using Dataflow.Graph.Tensors;

namespace Dataflow.Engine.Sessions;

/// <summary>Where a non-finite value first appeared: a kernel (from finite inputs), a fed input, or a parameter.</summary>
public sealed record NonFiniteSource(NonFiniteSource.Origin Kind, string Name, int? KernelOrder, long Index, float Value, string Description)
{
    public enum Origin { Parameter, Input, Kernel }

    public override string ToString() => Description;
}

/// <summary>
/// Finds the first op whose output went NaN or ±∞, for the message a failed step gives ("kernel k57
/// (softmax in decoder.3.attention) produced NaN from finite inputs"). The planned buffers are
/// reused within a step, so the values are gone once it ends; this re-runs the compiled graph's
/// forward and backward kernels one at a time, in dispatch order, and checks each kernel's outputs
/// as soon as it has run. The optimizer update does not run, so parameters are left as they were.
/// Slow (a wait and a download per kernel), so only for diagnosing a step that already failed.
/// </summary>
public static class NonFiniteDiagnosis
{
    /// <summary>
    /// The first non-finite parameter or fed input if there is one, else the first kernel whose
    /// f32 outputs hold NaN or ±∞ although its inputs are finite; null when every value is finite
    /// (the non-finite value came from elsewhere, the optimizer update say). Kernels that draw random
    /// numbers (dropout) use the session's current step seed.
    /// </summary>
    public static NonFiniteSource? Find(Session session, CompiledProgram graph, IReadOnlyDictionary<string, Array> feeds)
    {
        foreach (var slot in session.Parameters.Slots.Where(s => graph.Context.Graph.Parameters.Any(p => p.Name == s.Name)).OrderBy(s => s.Name, StringComparer.Ordinal))
            if (First(session.Parameters.Read(slot.Value, slot.Elements)) is { } bad)
                return new(NonFiniteSource.Origin.Parameter, slot.Name, null, bad.Index, bad.Value,
                    $"parameter '{slot.Name}' holds {Show(bad.Value)} at index {bad.Index}");
        foreach (var (name, values) in feeds.OrderBy(f => f.Key, StringComparer.Ordinal))
            if (values is float[] floats && First(floats) is { } bad)
                return new(NonFiniteSource.Origin.Input, name, null, bad.Index, bad.Value,
                    $"input '{name}' holds {Show(bad.Value)} at index {bad.Index}");

        // One ordinary forward pass feeds the inputs into their (never reused) buffers; then the
        // kernels run again one by one, which recomputes every intermediate value in turn.
        var frame = session.Run(graph, feeds, fetch: []);
        var world = graph.World;
        foreach (var kernel in graph.Kernels)
        {
            var info = world.Get<KernelInfo>(kernel);
            var backend = world.Backend(world.Get<Placement>(kernel));
            var launch = info.UsesSeed ? new LaunchParams(DispatchSystem.Mix(frame.Seed, world.SeedSalt(info)), null) : LaunchParams.None;
            TransferKernel.Launch(backend, world.Compiled(kernel), world.LaunchBuffers(kernel), in launch);
            backend.Wait();
            foreach (var output in world.Outputs(info))
            {
                if (FirstIn(world, output) is not { } bad) continue;
                var badInput = world.Inputs(info).Select(i => (Tensor: i, Bad: FirstIn(world, i))).FirstOrDefault(i => i.Bad is not null);
                var what = Describe(world, info);
                return badInput.Bad is null
                    ? new(NonFiniteSource.Origin.Kernel, what, info.Order, bad.Index, bad.Value,
                        $"kernel k{info.Order} ({what}) produced {Show(bad.Value)} from finite inputs (first at element {bad.Index})")
                    : new(NonFiniteSource.Origin.Kernel, what, info.Order, bad.Index, bad.Value,
                        $"kernel k{info.Order} ({what}) produced {Show(bad.Value)} from an input that already held {Show(badInput.Bad.Value.Value)}");
            }
        }
        return null;
    }

    /// <summary>"softmax in decoder.3.attention": the kernel's op (or fused ops) and the scope of the layer it belongs to.</summary>
    private static string Describe(Ecs.World world, KernelInfo info)
    {
        var scope = world.Members(info).Select(world.Scope).LastOrDefault(s => !string.IsNullOrEmpty(s));
        var name = world.Spec(info).DisplayName;
        return scope is null ? name : $"{name} in {scope}";
    }

    private static (long Index, float Value)? FirstIn(Ecs.World world, Ecs.Entity tensor)
    {
        // A copy placement made has its source's shape.
        var desc = world.Shape(tensor);
        if (desc.DType != DType.F32 || !world.Has<BufferSlot>(tensor)) return null;
        var buffer = world.Buffer(tensor);
        var values = new float[desc.Elements];
        buffer.Owner.Wait();
        buffer.Owner.Download(buffer, values);
        return First(values);
    }

    private static (long Index, float Value)? First(ReadOnlySpan<float> values)
    {
        for (int i = 0; i < values.Length; i++)
            if (!float.IsFinite(values[i])) return (i, values[i]);
        return null;
    }

    private static string Show(float value) => float.IsNaN(value) ? "NaN" : value > 0 ? "+inf" : "-inf";
}

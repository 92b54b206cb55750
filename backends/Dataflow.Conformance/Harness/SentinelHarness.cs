using System.Runtime.InteropServices;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Components;
using Dataflow.Engine.Ecs;
using Dataflow.Engine.Sessions;
using Dataflow.Graph.Tensors;

namespace Dataflow.Conformance.Harness;

/// <summary>What running a program's kernels between sentinels found: overruns (and other faults) and the outputs.</summary>
public sealed record SentinelReport(IReadOnlyList<string> Faults, IReadOnlyDictionary<string, float[]> Outputs, bool OutputsComparable);

/// <summary>
/// Out-of-bounds writes, as ggml's test-backend-ops guards them: the engine hands a backend whole
/// buffers sized exactly, so an overrun would land silently in a neighbour. Here every kernel of a
/// compiled program is run directly through <see cref="IBackend.Compile"/>/<see cref="IBackend.Enqueue"/>
/// on fresh buffers that are <see cref="Padding"/> elements longer than the tensor, the tail filled
/// with <see cref="SentinelBits"/>; after each launch the tails must be untouched. Buffers a kernel
/// writes start all-sentinel, so an element the kernel forgets to write shows up as a NaN output.
/// </summary>
public static class SentinelHarness
{
    /// <summary>A quiet NaN with a recognisable payload; compared as bits, never as a float.</summary>
    public const int SentinelBits = 0x7FC0DEAD;

    /// <summary>Longer than any vector a backend writes (16 floats) and odd, so partial-vector overruns land in it too.</summary>
    public const int Padding = 67;

    private const ulong Seed = 0x5EED;

    public static SentinelReport Run(IBackend backend, CompiledProgram compiled, CaseInstance instance)
    {
        var world = compiled.World;
        var faults = new List<string>();
        var buffers = new Dictionary<Entity, (IDeviceBuffer Buffer, TensorDesc Desc)>();
        var written = compiled.Kernels.SelectMany(k => world.Outputs(world.Get<KernelInfo>(k))).Select(t => Root(world, t)).ToHashSet();
        bool seeded = false;
        try
        {
            foreach (var kernel in compiled.Kernels)
            {
                var info = world.Get<KernelInfo>(kernel);
                var spec = world.Spec(info);
                var operands = world.Inputs(info).Concat(world.Outputs(info)).ToArray();
                seeded |= info.UsesSeed;
                var bound = new List<IDeviceBuffer>();
                foreach (var tensor in operands)
                {
                    var root = Root(world, tensor);
                    if (!buffers.TryGetValue(root, out var entry))
                    {
                        var desc = world.Get<TensorInfo>(root).Desc;
                        var initial = InitialContents(world, root, desc, instance, written.Contains(root));
                        if (initial is null) faults.Add($"k{info.Order} {spec.DisplayName} reads {Describe(world, root)}, which no kernel writes and nothing feeds");
                        var buffer = backend.Allocate(desc.Elements + Padding);
                        backend.Upload(buffer, initial ?? Sentinels(desc.Elements + Padding));
                        buffers[root] = entry = (buffer, desc);
                    }
                    bound.Add(entry.Buffer);
                }

                var compiledKernel = backend.Compile(spec);
                var launch = info.UsesSeed ? new LaunchParams(Seed, null) : LaunchParams.None;
                backend.Enqueue(compiledKernel, bound.ToArray(), in launch);
                backend.Wait();

                foreach (var tensor in operands.Select(t => Root(world, t)).Distinct())
                {
                    var (buffer, desc) = buffers[tensor];
                    var tail = new int[Padding];
                    backend.Download(buffer, tail, desc.Elements);
                    int first = Array.FindIndex(tail, bits => bits != SentinelBits);
                    if (first >= 0)
                        faults.Add($"k{info.Order} {spec.DisplayName} wrote past the end of {Describe(world, tensor)}: element +{first} of the padding is 0x{tail[first]:X8}");
                }
            }

            var outputs = new Dictionary<string, float[]>(StringComparer.Ordinal);
            var tensors = compiled.Tensors();
            foreach (var (name, node) in instance.Program.Outputs)
            {
                var root = Root(world, tensors[node]);
                if (buffers.TryGetValue(root, out var entry)) outputs[name] = Read(backend, entry.Buffer, entry.Desc);
                else if (InitialContents(world, root, world.Get<TensorInfo>(root).Desc, instance, writtenByKernel: false) is { } fed)
                    outputs[name] = Fed(fed, world.Get<TensorInfo>(root).Desc); // an alias of a fed tensor (detach of a parameter): no kernel touches it
            }
            return new SentinelReport(faults, outputs, OutputsComparable: !seeded);
        }
        finally
        {
            foreach (var (buffer, _) in buffers.Values) buffer.Dispose();
        }
    }

    private static Entity Root(World world, Entity tensor) =>
        world.Has<AliasOf>(tensor) ? Root(world, world.Get<AliasOf>(tensor).Source) : tensor;

    private static string Describe(World world, Entity tensor) =>
        $"%{world.Get<TensorOp>(tensor).Id} {world.Get<TensorInfo>(tensor).Desc}";

    /// <summary>The bits a fresh buffer starts with: fed values then sentinels, or all sentinels for a kernel's output.</summary>
    private static int[]? InitialContents(World world, Entity root, TensorDesc desc, CaseInstance instance, bool writtenByKernel)
    {
        Array? values = null;
        if (world.Has<InputTag>(root)) values = instance.Inputs[world.Name(world.Get<InputTag>(root).Name)];
        else if (world.Has<ParamTag>(root)) values = instance.Parameters[world.Name(world.Get<ParamTag>(root).Name)];
        else if (!writtenByKernel) return null;

        var bits = Sentinels(desc.Elements + Padding);
        switch (values)
        {
            case float[] f: MemoryMarshal.Cast<float, int>(f.AsSpan()).CopyTo(bits); break;
            case int[] i: i.CopyTo(bits, 0); break;
        }
        return bits;
    }

    private static int[] Sentinels(long count)
    {
        var bits = new int[count];
        Array.Fill(bits, SentinelBits);
        return bits;
    }

    private static float[] Fed(int[] bits, TensorDesc desc)
    {
        var values = new float[desc.Elements];
        for (int i = 0; i < values.Length; i++)
            values[i] = desc.DType == DType.F32 ? BitConverter.Int32BitsToSingle(bits[i]) : bits[i];
        return values;
    }

    private static float[] Read(IBackend backend, IDeviceBuffer buffer, TensorDesc desc)
    {
        var values = new float[desc.Elements];
        if (desc.DType == DType.F32) backend.Download(buffer, values);
        else
        {
            var ints = new int[values.Length];
            backend.Download(buffer, ints);
            for (int i = 0; i < ints.Length; i++) values[i] = ints[i];
        }
        return values;
    }
}

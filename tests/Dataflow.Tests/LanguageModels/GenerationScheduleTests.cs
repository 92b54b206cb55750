using Dataflow.Engine.Ecs;
using Dataflow.Generation;
using Dataflow.Generation.Frame;

namespace Dataflow.Tests.LanguageModels;

/// <summary>
/// The generation frame's order comes from what its systems declare reading and writing (no 'after'
/// anywhere), has no ambiguity, and each declaration is what the system really touches.
/// </summary>
public class GenerationScheduleTests
{
    private static readonly string[] FrameOrder =
        ["AdmitSystem", "PrefillSystem", "DecodeSystem", "SampleSystem", "StreamSystem", "ToolSystem", "RetireSystem"];

    [Fact]
    public void The_declarations_alone_order_the_frame_and_nothing_is_ambiguous()
    {
        var schedule = GenerationSchedule.Create(slots: 2, cacheLength: 32);
        Assert.True(schedule.StrictAmbiguity);
        Assert.Empty(schedule.Ambiguities);
        Assert.Equal(FrameOrder, schedule.Batches.Select(b => Assert.Single(b)));
    }

    [Fact]
    public void Added_in_any_order_the_systems_are_scheduled_the_same()
    {
        var systems = GenerationSchedule.Create(slots: 2, cacheLength: 32);
        // The same systems, added last to first with no 'after': only their Access can put them back in order.
        var reversed = new Schedule("reversed").AddStage("frame");
        foreach (var name in FrameOrder.Reverse()) reversed.Add(SystemNamed(name), "frame");
        Assert.Empty(reversed.Ambiguities);
        Assert.Equal(systems.Batches, reversed.Batches);
    }

    [Fact]
    public void Without_its_previous_frame_reads_prefill_would_wait_for_decode()
    {
        // Prefill continues what Decode's slides queued last frame; declared as a plain read, the
        // schedule puts it after Decode (the declaration, not the position in a list, decides).
        var prefill = SystemNamed("PrefillSystem");
        var asPlainRead = new Relabelled(prefill, prefill.Access with { Reads = [.. prefill.Access.Reads, .. prefill.Access.ReadsPrevious], ReadsPrevious = [] });
        var schedule = new Schedule("s").AddStage("frame").Add(asPlainRead, "frame").Add(SystemNamed("DecodeSystem"), "frame");
        Assert.Equal(["DecodeSystem", "PrefillSystem"], schedule.Batches.Select(b => Assert.Single(b)));
    }

    [Fact]
    public void Every_declared_type_is_touched_and_nothing_else()
    {
        // A mix that walks every path: a tool call, a stop string, a window that slides, a request for no tokens, more requests than slots.
        using var session = TinyGpt.NewSession();
        using var generator = GeneratorTests.NewGenerator(session, slots: 2);
        var tokenizer = GeneratorTests.Tokenizer;
        var sampling = new SamplingOptions(1, TopK: 6);
        generator.Submit(new GenerationRequest(tokenizer.Encode("abc")) { MaxTokens = 6, Sampling = sampling, Tools = new AnswerOnce(tokenizer.Encode("kk")) });
        generator.Submit(new GenerationRequest(tokenizer.Encode("abcdefghijabcdefghij")) { MaxTokens = 30, Sampling = sampling, Seed = 3 });
        generator.Submit(new GenerationRequest(tokenizer.Encode("de")) { MaxTokens = 0 });
        generator.Submit(new GenerationRequest(tokenizer.Encode("fg")) { MaxTokens = 20, Sampling = sampling, StopStrings = ["a", "b", "c"], StopTokens = [10], Sink = new Discard() });

        var touched = new Dictionary<string, HashSet<Type>>();
        while (generator.Step())   // every access is checked against the declaration as it happens (tests run with EcsChecks on)
            foreach (var (system, access) in generator.FrameSchedule.LastAccess)
                (touched.TryGetValue(system, out var set) ? set : touched[system] = []).UnionWith(access.Touched);

        foreach (var system in GenerationSchedule.Create(2, 32).Batches.Select(b => SystemNamed(b[0])))
        {
            var declared = system.Access.Reads.Concat(system.Access.ReadsPrevious).Concat(system.Access.Writes).ToHashSet();
            // A type declared and never touched would order the frame by a dependency that is not there.
            Assert.True(declared.SetEquals(touched[system.Name]),
                $"{system.Name} declares [{string.Join(", ", declared.Select(t => t.Name).Order())}] but touched [{string.Join(", ", touched[system.Name].Select(t => t.Name).Order())}]");
        }
    }

    [Fact]
    public void A_frame_system_that_touches_an_undeclared_component_fails_the_check()
    {
        using var session = TinyGpt.NewSession();
        using var generator = GeneratorTests.NewGenerator(session, slots: 1);
        generator.Submit(new GenerationRequest(GeneratorTests.Tokenizer.Encode("abc")) { MaxTokens = 3 });
        var sample = SystemNamed("SampleSystem");
        var hiding = new Relabelled(sample, sample.Access with { Writes = [.. sample.Access.Writes.Where(t => t != typeof(SequenceEnd))] });
        var schedule = GenerationSchedule.Create(1, GeneratorTests.Context);
        var world = generator.FrameWorld;

        var ex = Assert.Throws<UndeclaredAccessException>(() => new Schedule("s").Add(hiding).Run(world));
        Assert.Equal("SampleSystem", ex.System);
        Assert.Equal(typeof(SequenceEnd), ex.Type);
        schedule.Run(world);   // the real declaration passes on the same world
    }

    /// <summary>A fresh instance of the frame system called <paramref name="name"/> (for a cache of 32 tokens in 2 slots).</summary>
    private static ISystem SystemNamed(string name)
    {
        ISystem[] systems = [new AdmitSystem(), new PrefillSystem(), new DecodeSystem(2, 32), new SampleSystem(), new StreamSystem(), new ToolSystem(32), new RetireSystem()];
        return systems.Single(s => s.Name == name);
    }

    /// <summary>A frame system run under another declaration.</summary>
    private sealed class Relabelled(ISystem inner, SystemAccess access) : ISystem
    {
        public string Name => inner.Name;
        public SystemAccess Access { get; } = access;
        public void Run(World world) => inner.Run(world);
    }

    private sealed class Discard : IGenerationSink
    {
        public void OnText(int request, string piece) { }
        public void OnFinished(GenerationResult result) { }
    }

    private sealed class AnswerOnce(int[] answer) : IToolCalls
    {
        private bool _answered;

        public int[]? Respond(IReadOnlyList<int> tokens, int promptLength)
        {
            if (_answered || tokens.Count < promptLength + 2) return null;
            _answered = true;
            return answer;
        }
    }
}

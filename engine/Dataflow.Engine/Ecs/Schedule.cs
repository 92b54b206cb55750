using System.Diagnostics;
using Dataflow.Engine.Jobs;

namespace Dataflow.Engine.Ecs;

/// <summary>
/// A named list of stages run in order; each stage is a set of systems ordered by their declared
/// access (a reader runs after the writer of what it reads) and by 'after' names where access
/// cannot decide. Within a stage the parallel executor runs, together, systems whose
/// dependencies are done and whose accesses do not conflict; the single-threaded executor runs
/// the same DAG in one fixed order. With <see cref="EcsChecks.Enabled"/> every system is held to
/// its declaration while it runs.
/// </summary>
public sealed class Schedule
{
    private readonly List<(string Name, List<StagePlan.Entry> Systems)> _stages = new();
    private readonly Dictionary<string, int> _stageOfSystem = new();
    private StagePlan[]? _plans;
    private IReadOnlyList<string>? _ambiguities;
    private readonly Dictionary<string, AccessCheck> _lastAccess = new();
    // Reused by every run, so a steady frame allocates nothing here: the timings, each stage's
    // elapsed times, and the body that runs one parallel batch (with the batch it reads).
    private (string, TimeSpan)[] _timings = [];
    private TimeSpan[] _elapsed = [];
    private (StagePlan Plan, int[] Batch, World World)? _running;
    private Action<int, int>? _runBatch;

    public Schedule(string name)
    {
        Name = name;
    }

    public string Name { get; }

    public IReadOnlyList<string> Stages => _stages.Select(s => s.Name).ToList();

    /// <summary>When true, <see cref="Run"/> refuses a schedule with ambiguities; starts as <see cref="EcsChecks.Enabled"/> (so tests are strict).</summary>
    public bool StrictAmbiguity { get; set; } = EcsChecks.Enabled;

    /// <summary>Wall time of each system in the last run, in the order they finished; overwritten by the next run.</summary>
    public IReadOnlyList<(string System, TimeSpan Elapsed)> LastTimings { get; private set; } = [];

    /// <summary>Pairs of systems in one stage that conflict (see <see cref="SystemAccess.ConflictsWith"/>) with no order between them.</summary>
    public IReadOnlyList<string> Ambiguities => _ambiguities ??= Plans().SelectMany(p => p.Ambiguities).ToList();

    public Schedule AddStage(string name)
    {
        if (_stages.Any(s => s.Name == name)) throw new ArgumentException($"Schedule '{Name}' already has a stage '{name}'.", nameof(name));
        _stages.Add((name, new List<StagePlan.Entry>()));
        Invalidate();
        return this;
    }

    /// <summary>
    /// Adds <paramref name="system"/> to <paramref name="stage"/> (the last stage added when null; a
    /// stage "default" when there is none yet). <paramref name="after"/> names systems it must run
    /// after; names in earlier stages are allowed and already hold.
    /// </summary>
    public Schedule Add(ISystem system, string? stage = null, params string[] after)
    {
        if (_stageOfSystem.ContainsKey(system.Name))
            throw new ArgumentException($"Schedule '{Name}' already has a system named {system.Name}.", nameof(system));
        if (stage is null && _stages.Count == 0) AddStage("default");
        int index = stage is null ? _stages.Count - 1 : _stages.FindIndex(s => s.Name == stage);
        if (index < 0)
            throw new ArgumentException($"Schedule '{Name}' has no stage '{stage}' (stages: {string.Join(", ", _stages.Select(s => s.Name))}); call AddStage first.", nameof(stage));
        _stages[index].Systems.Add(new StagePlan.Entry(system, after));
        _stageOfSystem[system.Name] = index;
        Invalidate();
        return this;
    }

    /// <summary>
    /// The batches the parallel executor runs, stage by stage: the systems in one batch run at the
    /// same time. Derived from the systems' access (see <see cref="StagePlan"/>).
    /// </summary>
    public IReadOnlyList<IReadOnlyList<string>> Batches =>
        [.. Plans().SelectMany(p => p.Batches.Select(b => (IReadOnlyList<string>)[.. b.Select(i => p.Systems[i].Name)]))];

    /// <summary>With <see cref="EcsChecks.Enabled"/>: what each system touched and wrote in the last run, by system name (over many runs: <see cref="AccessRecord"/>).</summary>
    public IReadOnlyDictionary<string, (IReadOnlySet<Type> Touched, IReadOnlySet<Type> Written)> LastAccess =>
        _lastAccess.ToDictionary(kv => kv.Key, kv => ((IReadOnlySet<Type>)kv.Value.Touched, (IReadOnlySet<Type>)kv.Value.Written));

    public void Run(World world, bool parallel = true)
    {
        var plans = Plans();
        if (StrictAmbiguity && Ambiguities.Count > 0)
            throw new ScheduleException($"Schedule '{Name}' has ambiguous system orders:\n  " + string.Join("\n  ", Ambiguities));
        int systems = 0, widest = 0;
        foreach (var plan in plans) (systems, widest) = (systems + plan.Systems.Length, Math.Max(widest, plan.Systems.Length));
        if (_timings.Length != systems) _timings = new (string, TimeSpan)[systems];
        if (_elapsed.Length < widest) _elapsed = new TimeSpan[widest];
        _lastAccess.Clear();
        int done = 0;
        foreach (var plan in plans)
        {
            if (parallel) RunParallel(plan, world, ref done);
            else RunSequential(plan, world, ref done);
        }
        LastTimings = _timings;
        if (EcsChecks.Enabled) AccessRecord.Add(plans.SelectMany(p => p.Systems), _lastAccess);
    }

    private void RunSequential(StagePlan plan, World world, ref int done)
    {
        foreach (int i in plan.Order)
        {
            _timings[done++] = (plan.Systems[i].Name, Timed(plan.Systems[i], world));
            PlayBack(plan.Systems[i], world);
        }
    }

    private void RunParallel(StagePlan plan, World world, ref int done)
    {
        var elapsed = _elapsed;
        foreach (var batch in plan.Batches)
        {
            if (batch.Length == 1)
            {
                elapsed[batch[0]] = Timed(plan.Systems[batch[0]], world);
            }
            else
            {
                // Direct structural changes from concurrent systems would race; the world refuses them.
                world.EnterIteration();
                try
                {
                    _running = (plan, batch, world);
                    JobSystem.Shared.ParallelFor(batch.Length, 1, _runBatch ??= RunBatch);
                }
                finally
                {
                    _running = null;
                    world.ExitIteration();
                }
            }
            foreach (int i in batch)
            {
                _timings[done++] = (plan.Systems[i].Name, elapsed[i]);
                PlayBack(plan.Systems[i], world);
            }
        }
    }

    /// <summary>Runs systems [start, end) of the parallel batch being run (see <see cref="_running"/>).</summary>
    private void RunBatch(int start, int end)
    {
        var (plan, batch, world) = _running!.Value;
        for (int b = start; b < end; b++) _elapsed[batch[b]] = Timed(plan.Systems[batch[b]], world);
    }

    private TimeSpan Timed(ISystem system, World world)
    {
        long start = Stopwatch.GetTimestamp();
        using (AccessCheck.Enter(world, system, _lastAccess)) system.Run(world);
        return Stopwatch.GetElapsedTime(start);
    }

    /// <summary>Applies a deferring system's recorded changes, as that system (so the access check sees them as its own).</summary>
    private void PlayBack(ISystem system, World world)
    {
        if (system is not IDeferredChanges { Commands.Count: > 0 } deferred) return;
        using var scope = AccessCheck.Enter(world, system, _lastAccess);
        deferred.Commands.Playback(world);
    }

    private StagePlan[] Plans() => _plans ??= _stages
        .Select((s, i) => StagePlan.Build(Name, s.Name, i, s.Systems, name => _stageOfSystem.TryGetValue(name, out int at) ? at : -1))
        .ToArray();

    private void Invalidate()
    {
        _plans = null;
        _ambiguities = null;
    }
}

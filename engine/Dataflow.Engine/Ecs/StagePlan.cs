namespace Dataflow.Engine.Ecs;

/// <summary>
/// One stage's systems as a DAG derived from their declared access: a system that lists a type in
/// its reads runs after every other system that writes it, and one that lists it in its
/// previous-run reads (<see cref="SystemAccess.ReadsPrevious"/>) runs before them. Two systems that each read what the
/// other writes form a cycle, reported as such: one of them reads the other's value from the
/// previous frame (the kernels read the parameters the optimizer updates behind them), which its
/// previous-run reads say (or, failing that, an explicit 'after'); an explicit order wins over a
/// derived order the other way. Two
/// systems that write a type without either listing it as read get no derived order: an
/// ambiguity until an 'after' settles it. The plan holds a deterministic topological
/// order, which pairs conflict, the ambiguities, and the parallel batches.
/// </summary>
internal sealed class StagePlan
{
    internal sealed record Entry(ISystem System, string[] After);

    private StagePlan(ISystem[] systems, int[][] after, int[] order, bool[,] conflicts, List<string> ambiguities)
    {
        Systems = systems;
        After = after;
        Order = order;
        Conflicts = conflicts;
        Ambiguities = ambiguities;
        Batches = PlanBatches();
    }

    public ISystem[] Systems { get; }

    /// <summary>For each system, the systems of this stage it runs after (explicit and derived).</summary>
    public int[][] After { get; }

    /// <summary>Topological order; among ready systems the one added first goes first, so runs repeat exactly.</summary>
    public int[] Order { get; }

    public bool[,] Conflicts { get; }

    public List<string> Ambiguities { get; }

    /// <summary>
    /// The systems the parallel executor runs together, batch by batch: those whose dependencies are
    /// done and that conflict with no earlier system (in <see cref="Order"/>) still to run, so both
    /// executors give the same result.
    /// </summary>
    public int[][] Batches { get; }

    /// <param name="stageIndexOf">The stage index of a system name anywhere in the schedule, or -1.</param>
    public static StagePlan Build(string schedule, string stage, int stageIndex, IReadOnlyList<Entry> entries, Func<string, int> stageIndexOf)
    {
        int n = entries.Count;
        var systems = entries.Select(e => e.System).ToArray();
        var local = new Dictionary<string, int>();
        for (int i = 0; i < n; i++) local[systems[i].Name] = i;

        var explicitAfter = new List<int>[n];
        for (int i = 0; i < n; i++)
        {
            explicitAfter[i] = [];
            foreach (string name in entries[i].After)
            {
                if (local.TryGetValue(name, out int j)) { if (!explicitAfter[i].Contains(j)) explicitAfter[i].Add(j); continue; }
                int other = stageIndexOf(name);
                if (other < 0)
                    throw new ScheduleException($"Schedule '{schedule}': {systems[i].Name} is set to run after '{name}', which is not in the schedule.", [systems[i].Name, name]);
                if (other > stageIndex)
                    throw new ScheduleException($"Schedule '{schedule}': {systems[i].Name} (stage '{stage}') is set to run after {name}, which is in a later stage.", [systems[i].Name, name]);
                // A system in an earlier stage has already run: the order holds without an edge.
            }
        }
        var noReasons = new Dictionary<(int, int), string>();
        ThrowOnCycle(schedule, stage, systems, [.. explicitAfter.Select(a => a.ToArray())], noReasons);
        var explicitAncestors = Ancestors([.. explicitAfter.Select(a => a.ToArray())], TopologicalOrder([.. explicitAfter.Select(a => a.ToArray())]));

        // Derived orders: reader after writer, unless explicit orders already say the opposite.
        var reasons = new Dictionary<(int, int), string>();
        var after = explicitAfter.Select(a => new List<int>(a)).ToArray();
        for (int writer = 0; writer < n; writer++)
        {
            for (int reader = 0; reader < n; reader++)
            {
                if (reader == writer || explicitAncestors[writer][reader]) continue;
                var consumed = systems[writer].Access.Writes.Where(systems[reader].Access.Reads.Contains).ToList();
                if (consumed.Count == 0) continue;
                if (!after[reader].Contains(writer)) after[reader].Add(writer);
                reasons[(reader, writer)] = $"{systems[reader].Name} reads {string.Join(", ", consumed.Select(t => t.Name))}, which {systems[writer].Name} writes";
            }
        }
        // Reads of the previous run's values: the other writers of those types wait for the reader.
        for (int reader = 0; reader < n; reader++)
        {
            for (int writer = 0; writer < n; writer++)
            {
                if (reader == writer || explicitAncestors[reader][writer]) continue;
                var carried = systems[writer].Access.Writes.Where(systems[reader].Access.ReadsPrevious.Contains).ToList();
                if (carried.Count == 0) continue;
                if (!after[writer].Contains(reader)) after[writer].Add(reader);
                reasons.TryAdd((writer, reader), $"{systems[reader].Name} reads {string.Join(", ", carried.Select(t => t.Name))} as the previous frame left it, and {systems[writer].Name} writes it");
            }
        }
        var edges = after.Select(a => a.ToArray()).ToArray();
        ThrowOnCycle(schedule, stage, systems, edges, reasons);
        var order = TopologicalOrder(edges);
        var ancestors = Ancestors(edges, order);

        var conflicts = new bool[n, n];
        var ambiguities = new List<string>();
        for (int a = 0; a < n; a++)
        {
            for (int b = a + 1; b < n; b++)
            {
                var ra = systems[a].Access;
                var rb = systems[b].Access;
                if (!ra.ConflictsWith(rb)) continue;
                conflicts[a, b] = conflicts[b, a] = true;
                if (ancestors[a][b] || ancestors[b][a]) continue;
                string sa = systems[a].Name, sb = systems[b].Name;
                foreach (var t in ra.Writes.Intersect(rb.Writes))
                    ambiguities.Add($"{sa} and {sb} both write {t.Name} with no order between them");
                foreach (var t in ra.Writes.Except(rb.Writes).Intersect(rb.Reads))
                    ambiguities.Add($"{sa} writes {t.Name}, which {sb} reads, with no order between them");
                foreach (var t in rb.Writes.Except(ra.Writes).Intersect(ra.Reads))
                    ambiguities.Add($"{sb} writes {t.Name}, which {sa} reads, with no order between them");
            }
        }
        return new StagePlan(systems, edges, order, conflicts, ambiguities);
    }

    /// <summary>ancestors[i][j]: j must finish before i starts, directly or through others.</summary>
    private static bool[][] Ancestors(int[][] after, int[] order)
    {
        int n = after.Length;
        var ancestors = new bool[n][];
        foreach (int i in order)
        {
            ancestors[i] = new bool[n];
            foreach (int d in after[i])
            {
                ancestors[i][d] = true;
                for (int k = 0; k < n; k++) ancestors[i][k] |= ancestors[d][k];
            }
        }
        return ancestors;
    }

    private int[][] PlanBatches()
    {
        int n = Systems.Length;
        var done = new bool[n];
        var batches = new List<int[]>();
        for (int remaining = n; remaining > 0;)
        {
            var batch = new List<int>();
            for (int k = 0; k < n; k++)
            {
                int i = Order[k];
                if (done[i] || !After[i].All(d => done[d])) continue;
                // Conflicting systems keep the single-threaded order, even when nothing orders them.
                bool blocked = false;
                for (int e = 0; e < k && !blocked; e++)
                    blocked = !done[Order[e]] && Conflicts[i, Order[e]];
                if (!blocked) batch.Add(i);
            }
            foreach (int i in batch) done[i] = true;
            remaining -= batch.Count;
            batches.Add([.. batch]);
        }
        return [.. batches];
    }

    private static void ThrowOnCycle(string schedule, string stage, ISystem[] systems, int[][] after, Dictionary<(int, int), string> reasons)
    {
        int n = systems.Length;
        var state = new byte[n]; // 0 unvisited, 1 on the current path, 2 finished
        var path = new List<int>();

        void Visit(int i)
        {
            state[i] = 1;
            path.Add(i);
            foreach (int d in after[i])
            {
                if (state[d] == 1)
                {
                    // The path from d to i plus the edge back to d is the cycle; list it in run order.
                    var members = path.Skip(path.IndexOf(d)).Reverse().ToList();
                    var cycle = members.Select(k => systems[k].Name).ToList();
                    cycle.Add(cycle[0]);
                    // Derived edges say why; explicit ones are the user's own 'after'.
                    var why = members.Select((k, m) => reasons.GetValueOrDefault((members[(m + 1) % members.Count], k))).OfType<string>().ToList();
                    string because = why.Count == 0 ? "" : $"; derived from the declarations: {string.Join("; ", why)}. Add an explicit 'after' to say which comes first";
                    throw new ScheduleException(
                        $"Schedule '{schedule}', stage '{stage}' has a cycle: {string.Join(" -> ", cycle)} (each runs after the one before it{because}).",
                        cycle.Take(cycle.Count - 1).ToList());
                }
                if (state[d] == 0) Visit(d);
            }
            path.RemoveAt(path.Count - 1);
            state[i] = 2;
        }

        for (int i = 0; i < n; i++)
            if (state[i] == 0) Visit(i);
    }

    private static int[] TopologicalOrder(int[][] after)
    {
        int n = after.Length;
        var placed = new bool[n];
        var order = new int[n];
        for (int k = 0; k < n; k++)
        {
            int next = -1;
            for (int i = 0; i < n && next < 0; i++)
                if (!placed[i] && after[i].All(d => placed[d])) next = i;
            placed[next] = true;
            order[k] = next;
        }
        return order;
    }
}

namespace Dataflow.Engine.Ecs;

/// <summary>
/// One stage's systems as a DAG: the 'after' edges, a deterministic topological order, which
/// pairs conflict, and which conflicting pairs have no order between them (ambiguities).
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
    }

    public ISystem[] Systems { get; }

    /// <summary>For each system, the systems of this stage it runs after.</summary>
    public int[][] After { get; }

    /// <summary>Topological order; among ready systems the one added first goes first, so runs repeat exactly.</summary>
    public int[] Order { get; }

    public bool[,] Conflicts { get; }

    public List<string> Ambiguities { get; }

    /// <param name="stageIndexOf">The stage index of a system name anywhere in the schedule, or -1.</param>
    public static StagePlan Build(string schedule, string stage, int stageIndex, IReadOnlyList<Entry> entries, Func<string, int> stageIndexOf)
    {
        int n = entries.Count;
        var systems = entries.Select(e => e.System).ToArray();
        var local = new Dictionary<string, int>();
        for (int i = 0; i < n; i++) local[systems[i].Name] = i;

        var after = new int[n][];
        for (int i = 0; i < n; i++)
        {
            var deps = new List<int>();
            foreach (string name in entries[i].After)
            {
                if (local.TryGetValue(name, out int j)) { if (!deps.Contains(j)) deps.Add(j); continue; }
                int other = stageIndexOf(name);
                if (other < 0)
                    throw new ScheduleException($"Schedule '{schedule}': {systems[i].Name} is set to run after '{name}', which is not in the schedule.", [systems[i].Name, name]);
                if (other > stageIndex)
                    throw new ScheduleException($"Schedule '{schedule}': {systems[i].Name} (stage '{stage}') is set to run after {name}, which is in a later stage.", [systems[i].Name, name]);
                // A system in an earlier stage has already run: the order holds without an edge.
            }
            after[i] = deps.ToArray();
        }

        ThrowOnCycle(schedule, stage, systems, after);
        var order = TopologicalOrder(after);

        // ancestors[i][j]: j must finish before i starts, directly or through others.
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
        return new StagePlan(systems, after, order, conflicts, ambiguities);
    }

    private static void ThrowOnCycle(string schedule, string stage, ISystem[] systems, int[][] after)
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
                    var cycle = path.Skip(path.IndexOf(d)).Select(k => systems[k].Name).Reverse().ToList();
                    cycle.Add(cycle[0]);
                    throw new ScheduleException(
                        $"Schedule '{schedule}', stage '{stage}' has a cycle: {string.Join(" -> ", cycle)} (each runs after the one before it).",
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

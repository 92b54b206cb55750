using System.Buffers;
using Dataflow.Engine.Jobs;

namespace Dataflow.Engine.Ecs;

// The per-arity loops below differ only in how many spans they walk. Inside them the world is
// locked against structural changes, because a structural change would move rows under the
// spans being walked; record such changes in a CommandBuffer instead.
public sealed partial class World
{
    /// <summary>
    /// Calls <paramref name="body"/>(chunk, from, to) over the rows of <paramref name="chunks"/>[0..count),
    /// split over <see cref="JobSystem.Shared"/> by rows rather than by chunks, so a query whose rows
    /// sit in one or two chunks (a few hundred kernels) still spreads over every worker.
    /// </summary>
    private static void ParallelRows(Chunk[] chunks, int count, Action<Chunk, int, int> body)
    {
        var starts = new int[count + 1];
        for (int k = 0; k < count; k++) starts[k + 1] = starts[k] + chunks[k].Count;
        JobSystem.Shared.ParallelFor(starts[count], 1, (start, end) =>
        {
            int k = Array.BinarySearch(starts, start);
            if (k < 0) k = ~k - 1;
            while (start < end)
            {
                while (starts[k + 1] <= start) k++; // past empty chunks
                int to = Math.Min(end, starts[k + 1]);
                body(chunks[k], start - starts[k], to - starts[k]);
                start = to;
            }
        });
    }

    public void ForEach<T1>(in QueryDescription description, ForEachRef<T1> action)
    {
        var query = QueryIncluding(description, ComponentType<T1>.Id);
        EnterIteration();
        try
        {
            foreach (var archetype in query.Archetypes)
            {
                int c1 = archetype.ColumnOf(ComponentType<T1>.Id);
                foreach (var chunk in archetype.Chunks)
                {
                    var s1 = chunk.GetSpan<T1>(c1);
                    for (int i = 0; i < s1.Length; i++) action(ref s1[i]);
                }
            }
        }
        finally
        {
            ExitIteration();
        }
    }

    public void ForEachWithEntity<T1>(in QueryDescription description, ForEachWithEntityRef<T1> action)
    {
        var query = QueryIncluding(description, ComponentType<T1>.Id);
        EnterIteration();
        try
        {
            foreach (var archetype in query.Archetypes)
            {
                int c1 = archetype.ColumnOf(ComponentType<T1>.Id);
                foreach (var chunk in archetype.Chunks)
                {
                    var s1 = chunk.GetSpan<T1>(c1);
                    var entities = chunk.Entities;
                    for (int i = 0; i < s1.Length; i++) action(entities[i], ref s1[i]);
                }
            }
        }
        finally
        {
            ExitIteration();
        }
    }

    /// <summary>Like <see cref="ForEach{T1}"/>, with rows spread over <see cref="JobSystem.Shared"/>; <paramref name="action"/> must be safe to call concurrently.</summary>
    public void ParallelForEach<T1>(in QueryDescription description, ForEachRef<T1> action)
    {
        var query = QueryIncluding(description, ComponentType<T1>.Id);
        var chunks = query.RentChunks(out int count);
        EnterIteration();
        try
        {
            ParallelRows(chunks, count, (chunk, from, to) =>
            {
                var s1 = chunk.GetSpan<T1>(chunk.Archetype.ColumnOf(ComponentType<T1>.Id));
                for (int i = from; i < to; i++) action(ref s1[i]);
            });
        }
        finally
        {
            ArrayPool<Chunk>.Shared.Return(chunks, clearArray: true);
            ExitIteration();
        }
    }

    /// <summary>Like <see cref="ForEachWithEntity{T1}"/>, with rows spread over <see cref="JobSystem.Shared"/>; <paramref name="action"/> must be safe to call concurrently.</summary>
    public void ParallelForEachWithEntity<T1>(in QueryDescription description, ForEachWithEntityRef<T1> action)
    {
        var query = QueryIncluding(description, ComponentType<T1>.Id);
        var chunks = query.RentChunks(out int count);
        EnterIteration();
        try
        {
            ParallelRows(chunks, count, (chunk, from, to) =>
            {
                var s1 = chunk.GetSpan<T1>(chunk.Archetype.ColumnOf(ComponentType<T1>.Id));
                var entities = chunk.Entities;
                for (int i = from; i < to; i++) action(entities[i], ref s1[i]);
            });
        }
        finally
        {
            ArrayPool<Chunk>.Shared.Return(chunks, clearArray: true);
            ExitIteration();
        }
    }

    public void ForEach<T1, T2>(in QueryDescription description, ForEachRef<T1, T2> action)
    {
        var query = QueryIncluding(description, ComponentType<T1>.Id, ComponentType<T2>.Id);
        EnterIteration();
        try
        {
            foreach (var archetype in query.Archetypes)
            {
                int c1 = archetype.ColumnOf(ComponentType<T1>.Id);
                int c2 = archetype.ColumnOf(ComponentType<T2>.Id);
                foreach (var chunk in archetype.Chunks)
                {
                    var s1 = chunk.GetSpan<T1>(c1);
                    var s2 = chunk.GetSpan<T2>(c2);
                    for (int i = 0; i < s1.Length; i++) action(ref s1[i], ref s2[i]);
                }
            }
        }
        finally
        {
            ExitIteration();
        }
    }

    public void ForEachWithEntity<T1, T2>(in QueryDescription description, ForEachWithEntityRef<T1, T2> action)
    {
        var query = QueryIncluding(description, ComponentType<T1>.Id, ComponentType<T2>.Id);
        EnterIteration();
        try
        {
            foreach (var archetype in query.Archetypes)
            {
                int c1 = archetype.ColumnOf(ComponentType<T1>.Id);
                int c2 = archetype.ColumnOf(ComponentType<T2>.Id);
                foreach (var chunk in archetype.Chunks)
                {
                    var s1 = chunk.GetSpan<T1>(c1);
                    var s2 = chunk.GetSpan<T2>(c2);
                    var entities = chunk.Entities;
                    for (int i = 0; i < s1.Length; i++) action(entities[i], ref s1[i], ref s2[i]);
                }
            }
        }
        finally
        {
            ExitIteration();
        }
    }

    /// <summary>Like <see cref="ForEach{T1, T2}"/>, with rows spread over <see cref="JobSystem.Shared"/>; <paramref name="action"/> must be safe to call concurrently.</summary>
    public void ParallelForEach<T1, T2>(in QueryDescription description, ForEachRef<T1, T2> action)
    {
        var query = QueryIncluding(description, ComponentType<T1>.Id, ComponentType<T2>.Id);
        var chunks = query.RentChunks(out int count);
        EnterIteration();
        try
        {
            ParallelRows(chunks, count, (chunk, from, to) =>
            {
                var s1 = chunk.GetSpan<T1>(chunk.Archetype.ColumnOf(ComponentType<T1>.Id));
                var s2 = chunk.GetSpan<T2>(chunk.Archetype.ColumnOf(ComponentType<T2>.Id));
                for (int i = from; i < to; i++) action(ref s1[i], ref s2[i]);
            });
        }
        finally
        {
            ArrayPool<Chunk>.Shared.Return(chunks, clearArray: true);
            ExitIteration();
        }
    }

    /// <summary>Like <see cref="ForEachWithEntity{T1, T2}"/>, with rows spread over <see cref="JobSystem.Shared"/>; <paramref name="action"/> must be safe to call concurrently.</summary>
    public void ParallelForEachWithEntity<T1, T2>(in QueryDescription description, ForEachWithEntityRef<T1, T2> action)
    {
        var query = QueryIncluding(description, ComponentType<T1>.Id, ComponentType<T2>.Id);
        var chunks = query.RentChunks(out int count);
        EnterIteration();
        try
        {
            ParallelRows(chunks, count, (chunk, from, to) =>
            {
                var s1 = chunk.GetSpan<T1>(chunk.Archetype.ColumnOf(ComponentType<T1>.Id));
                var s2 = chunk.GetSpan<T2>(chunk.Archetype.ColumnOf(ComponentType<T2>.Id));
                var entities = chunk.Entities;
                for (int i = from; i < to; i++) action(entities[i], ref s1[i], ref s2[i]);
            });
        }
        finally
        {
            ArrayPool<Chunk>.Shared.Return(chunks, clearArray: true);
            ExitIteration();
        }
    }

    public void ForEach<T1, T2, T3>(in QueryDescription description, ForEachRef<T1, T2, T3> action)
    {
        var query = QueryIncluding(description, ComponentType<T1>.Id, ComponentType<T2>.Id, ComponentType<T3>.Id);
        EnterIteration();
        try
        {
            foreach (var archetype in query.Archetypes)
            {
                int c1 = archetype.ColumnOf(ComponentType<T1>.Id);
                int c2 = archetype.ColumnOf(ComponentType<T2>.Id);
                int c3 = archetype.ColumnOf(ComponentType<T3>.Id);
                foreach (var chunk in archetype.Chunks)
                {
                    var s1 = chunk.GetSpan<T1>(c1);
                    var s2 = chunk.GetSpan<T2>(c2);
                    var s3 = chunk.GetSpan<T3>(c3);
                    for (int i = 0; i < s1.Length; i++) action(ref s1[i], ref s2[i], ref s3[i]);
                }
            }
        }
        finally
        {
            ExitIteration();
        }
    }

    public void ForEachWithEntity<T1, T2, T3>(in QueryDescription description, ForEachWithEntityRef<T1, T2, T3> action)
    {
        var query = QueryIncluding(description, ComponentType<T1>.Id, ComponentType<T2>.Id, ComponentType<T3>.Id);
        EnterIteration();
        try
        {
            foreach (var archetype in query.Archetypes)
            {
                int c1 = archetype.ColumnOf(ComponentType<T1>.Id);
                int c2 = archetype.ColumnOf(ComponentType<T2>.Id);
                int c3 = archetype.ColumnOf(ComponentType<T3>.Id);
                foreach (var chunk in archetype.Chunks)
                {
                    var s1 = chunk.GetSpan<T1>(c1);
                    var s2 = chunk.GetSpan<T2>(c2);
                    var s3 = chunk.GetSpan<T3>(c3);
                    var entities = chunk.Entities;
                    for (int i = 0; i < s1.Length; i++) action(entities[i], ref s1[i], ref s2[i], ref s3[i]);
                }
            }
        }
        finally
        {
            ExitIteration();
        }
    }

    /// <summary>Like <see cref="ForEach{T1, T2, T3}"/>, with rows spread over <see cref="JobSystem.Shared"/>; <paramref name="action"/> must be safe to call concurrently.</summary>
    public void ParallelForEach<T1, T2, T3>(in QueryDescription description, ForEachRef<T1, T2, T3> action)
    {
        var query = QueryIncluding(description, ComponentType<T1>.Id, ComponentType<T2>.Id, ComponentType<T3>.Id);
        var chunks = query.RentChunks(out int count);
        EnterIteration();
        try
        {
            ParallelRows(chunks, count, (chunk, from, to) =>
            {
                var s1 = chunk.GetSpan<T1>(chunk.Archetype.ColumnOf(ComponentType<T1>.Id));
                var s2 = chunk.GetSpan<T2>(chunk.Archetype.ColumnOf(ComponentType<T2>.Id));
                var s3 = chunk.GetSpan<T3>(chunk.Archetype.ColumnOf(ComponentType<T3>.Id));
                for (int i = from; i < to; i++) action(ref s1[i], ref s2[i], ref s3[i]);
            });
        }
        finally
        {
            ArrayPool<Chunk>.Shared.Return(chunks, clearArray: true);
            ExitIteration();
        }
    }

    /// <summary>Like <see cref="ForEachWithEntity{T1, T2, T3}"/>, with rows spread over <see cref="JobSystem.Shared"/>; <paramref name="action"/> must be safe to call concurrently.</summary>
    public void ParallelForEachWithEntity<T1, T2, T3>(in QueryDescription description, ForEachWithEntityRef<T1, T2, T3> action)
    {
        var query = QueryIncluding(description, ComponentType<T1>.Id, ComponentType<T2>.Id, ComponentType<T3>.Id);
        var chunks = query.RentChunks(out int count);
        EnterIteration();
        try
        {
            ParallelRows(chunks, count, (chunk, from, to) =>
            {
                var s1 = chunk.GetSpan<T1>(chunk.Archetype.ColumnOf(ComponentType<T1>.Id));
                var s2 = chunk.GetSpan<T2>(chunk.Archetype.ColumnOf(ComponentType<T2>.Id));
                var s3 = chunk.GetSpan<T3>(chunk.Archetype.ColumnOf(ComponentType<T3>.Id));
                var entities = chunk.Entities;
                for (int i = from; i < to; i++) action(entities[i], ref s1[i], ref s2[i], ref s3[i]);
            });
        }
        finally
        {
            ArrayPool<Chunk>.Shared.Return(chunks, clearArray: true);
            ExitIteration();
        }
    }

    public void ForEach<T1, T2, T3, T4>(in QueryDescription description, ForEachRef<T1, T2, T3, T4> action)
    {
        var query = QueryIncluding(description, ComponentType<T1>.Id, ComponentType<T2>.Id, ComponentType<T3>.Id, ComponentType<T4>.Id);
        EnterIteration();
        try
        {
            foreach (var archetype in query.Archetypes)
            {
                int c1 = archetype.ColumnOf(ComponentType<T1>.Id);
                int c2 = archetype.ColumnOf(ComponentType<T2>.Id);
                int c3 = archetype.ColumnOf(ComponentType<T3>.Id);
                int c4 = archetype.ColumnOf(ComponentType<T4>.Id);
                foreach (var chunk in archetype.Chunks)
                {
                    var s1 = chunk.GetSpan<T1>(c1);
                    var s2 = chunk.GetSpan<T2>(c2);
                    var s3 = chunk.GetSpan<T3>(c3);
                    var s4 = chunk.GetSpan<T4>(c4);
                    for (int i = 0; i < s1.Length; i++) action(ref s1[i], ref s2[i], ref s3[i], ref s4[i]);
                }
            }
        }
        finally
        {
            ExitIteration();
        }
    }

    public void ForEachWithEntity<T1, T2, T3, T4>(in QueryDescription description, ForEachWithEntityRef<T1, T2, T3, T4> action)
    {
        var query = QueryIncluding(description, ComponentType<T1>.Id, ComponentType<T2>.Id, ComponentType<T3>.Id, ComponentType<T4>.Id);
        EnterIteration();
        try
        {
            foreach (var archetype in query.Archetypes)
            {
                int c1 = archetype.ColumnOf(ComponentType<T1>.Id);
                int c2 = archetype.ColumnOf(ComponentType<T2>.Id);
                int c3 = archetype.ColumnOf(ComponentType<T3>.Id);
                int c4 = archetype.ColumnOf(ComponentType<T4>.Id);
                foreach (var chunk in archetype.Chunks)
                {
                    var s1 = chunk.GetSpan<T1>(c1);
                    var s2 = chunk.GetSpan<T2>(c2);
                    var s3 = chunk.GetSpan<T3>(c3);
                    var s4 = chunk.GetSpan<T4>(c4);
                    var entities = chunk.Entities;
                    for (int i = 0; i < s1.Length; i++) action(entities[i], ref s1[i], ref s2[i], ref s3[i], ref s4[i]);
                }
            }
        }
        finally
        {
            ExitIteration();
        }
    }

    /// <summary>Like <see cref="ForEach{T1, T2, T3, T4}"/>, with rows spread over <see cref="JobSystem.Shared"/>; <paramref name="action"/> must be safe to call concurrently.</summary>
    public void ParallelForEach<T1, T2, T3, T4>(in QueryDescription description, ForEachRef<T1, T2, T3, T4> action)
    {
        var query = QueryIncluding(description, ComponentType<T1>.Id, ComponentType<T2>.Id, ComponentType<T3>.Id, ComponentType<T4>.Id);
        var chunks = query.RentChunks(out int count);
        EnterIteration();
        try
        {
            ParallelRows(chunks, count, (chunk, from, to) =>
            {
                var s1 = chunk.GetSpan<T1>(chunk.Archetype.ColumnOf(ComponentType<T1>.Id));
                var s2 = chunk.GetSpan<T2>(chunk.Archetype.ColumnOf(ComponentType<T2>.Id));
                var s3 = chunk.GetSpan<T3>(chunk.Archetype.ColumnOf(ComponentType<T3>.Id));
                var s4 = chunk.GetSpan<T4>(chunk.Archetype.ColumnOf(ComponentType<T4>.Id));
                for (int i = from; i < to; i++) action(ref s1[i], ref s2[i], ref s3[i], ref s4[i]);
            });
        }
        finally
        {
            ArrayPool<Chunk>.Shared.Return(chunks, clearArray: true);
            ExitIteration();
        }
    }

    /// <summary>Like <see cref="ForEachWithEntity{T1, T2, T3, T4}"/>, with rows spread over <see cref="JobSystem.Shared"/>; <paramref name="action"/> must be safe to call concurrently.</summary>
    public void ParallelForEachWithEntity<T1, T2, T3, T4>(in QueryDescription description, ForEachWithEntityRef<T1, T2, T3, T4> action)
    {
        var query = QueryIncluding(description, ComponentType<T1>.Id, ComponentType<T2>.Id, ComponentType<T3>.Id, ComponentType<T4>.Id);
        var chunks = query.RentChunks(out int count);
        EnterIteration();
        try
        {
            ParallelRows(chunks, count, (chunk, from, to) =>
            {
                var s1 = chunk.GetSpan<T1>(chunk.Archetype.ColumnOf(ComponentType<T1>.Id));
                var s2 = chunk.GetSpan<T2>(chunk.Archetype.ColumnOf(ComponentType<T2>.Id));
                var s3 = chunk.GetSpan<T3>(chunk.Archetype.ColumnOf(ComponentType<T3>.Id));
                var s4 = chunk.GetSpan<T4>(chunk.Archetype.ColumnOf(ComponentType<T4>.Id));
                var entities = chunk.Entities;
                for (int i = from; i < to; i++) action(entities[i], ref s1[i], ref s2[i], ref s3[i], ref s4[i]);
            });
        }
        finally
        {
            ArrayPool<Chunk>.Shared.Return(chunks, clearArray: true);
            ExitIteration();
        }
    }
}

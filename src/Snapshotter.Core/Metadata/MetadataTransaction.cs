using Microsoft.Data.Sqlite;
using Snapshotter.Core.Snapshots;

namespace Snapshotter.Core.Metadata;

/// <summary>
/// The queries of the metadata store, bound to one SQLite transaction. Instances live only inside
/// <see cref="MetadataStore.ReadAsync{T}"/> / <see cref="MetadataStore.WriteAsync{T}"/> bodies.
/// </summary>
internal sealed partial class MetadataTransaction
{
    private const string SelectRecord =
        "SELECT s.id, s.name, s.parent_id, p.name, s.kind, s.created_at, s.updated_at, s.size, s.inodes " +
        "FROM snapshots s LEFT JOIN snapshots p ON p.id = s.parent_id ";

    /// <summary>The table <c>chain(id, parent_id, depth)</c>: snapshot <c>$id</c> (depth 0) and its ancestors.</summary>
    private const string AncestorChain =
        "WITH RECURSIVE chain(id, parent_id, depth) AS (" +
        " SELECT id, parent_id, 0 FROM snapshots WHERE id = $id" +
        " UNION ALL SELECT s.id, s.parent_id, c.depth + 1 FROM snapshots s JOIN chain c ON s.id = c.parent_id)";

    private readonly SqliteConnection _connection;
    private readonly SqliteTransaction _transaction;
    private List<Action>? _onRollback;

    public MetadataTransaction(SqliteConnection connection, SqliteTransaction transaction)
    {
        _connection = connection;
        _transaction = transaction;
    }

    /// <summary>Registers an undo action for side effects outside the database (run if the transaction does not commit).</summary>
    public void OnRollback(Action undo) => (_onRollback ??= []).Add(undo);

    internal IReadOnlyList<Action> RollbackActions => (IReadOnlyList<Action>?)_onRollback ?? [];

    /// <summary>The snapshot called <paramref name="name"/>, or null.</summary>
    public SnapshotRecord? Find(string name)
    {
        using var cmd = Command(SelectRecord + "WHERE s.name = $name");
        cmd.Parameters.AddWithValue("$name", name);
        using var reader = cmd.ExecuteReader();
        if (!reader.Read())
        {
            return null;
        }

        var id = reader.GetInt64(0);
        reader.Close();
        return ReadRecordRow(id);
    }

    /// <summary>The ids of <paramref name="id"/> and its ancestors, nearest first.</summary>
    public IReadOnlyList<long> GetChain(long id)
    {
        using var cmd = Command(AncestorChain + " SELECT id FROM chain ORDER BY depth");
        cmd.Parameters.AddWithValue("$id", id);
        using var reader = cmd.ExecuteReader();
        var ids = new List<long>();
        while (reader.Read())
        {
            ids.Add(reader.GetInt64(0));
        }

        return ids;
    }

    /// <summary>Inserts a new active or view snapshot and returns its id.</summary>
    public long Insert(string name, long? parentId, SnapshotKind kind, IReadOnlyDictionary<string, string> labels, DateTimeOffset now)
    {
        using var cmd = Command(
            "INSERT INTO snapshots (name, parent_id, kind, created_at, updated_at) VALUES ($name, $parent, $kind, $now, $now) RETURNING id");
        cmd.Parameters.AddWithValue("$name", name);
        cmd.Parameters.AddWithValue("$parent", parentId.HasValue ? parentId.Value : DBNull.Value);
        cmd.Parameters.AddWithValue("$kind", (int)kind);
        cmd.Parameters.AddWithValue("$now", now.UtcTicks);
        var id = (long)cmd.ExecuteScalar()!;
        InsertLabels(id, labels);
        return id;
    }

    /// <summary>
    /// Turns the active snapshot <paramref name="id"/> into the committed snapshot <paramref name="name"/>. Like
    /// containerd's storage (CommitActive), the committed snapshot is a new snapshot: created and updated are both the
    /// commit time, and the labels are replaced, not inherited.
    /// </summary>
    public void Commit(long id, string name, IReadOnlyDictionary<string, string> labels, SnapshotUsage usage, DateTimeOffset now)
    {
        using var cmd = Command(
            "UPDATE snapshots SET name = $name, kind = $kind, created_at = $now, updated_at = $now, size = $size, inodes = $inodes WHERE id = $id");
        cmd.Parameters.AddWithValue("$name", name);
        cmd.Parameters.AddWithValue("$kind", (int)SnapshotKind.Committed);
        cmd.Parameters.AddWithValue("$now", now.UtcTicks);
        cmd.Parameters.AddWithValue("$size", usage.Size);
        cmd.Parameters.AddWithValue("$inodes", usage.Inodes);
        cmd.Parameters.AddWithValue("$id", id);
        cmd.ExecuteNonQuery();
        DeleteLabels(id);
        InsertLabels(id, labels);
    }

    /// <summary>Replaces every label of <paramref name="id"/> and bumps its update time.</summary>
    public void SetLabels(long id, IReadOnlyDictionary<string, string> labels, DateTimeOffset now)
    {
        using var cmd = Command("UPDATE snapshots SET updated_at = $now WHERE id = $id");
        cmd.Parameters.AddWithValue("$now", now.UtcTicks);
        cmd.Parameters.AddWithValue("$id", id);
        cmd.ExecuteNonQuery();
        DeleteLabels(id);
        InsertLabels(id, labels);
    }

    public bool HasChildren(long id)
    {
        using var cmd = Command("SELECT EXISTS (SELECT 1 FROM snapshots WHERE parent_id = $id)");
        cmd.Parameters.AddWithValue("$id", id);
        return (long)cmd.ExecuteScalar()! != 0;
    }

    /// <summary>Deletes the snapshot row and (by cascade) its labels.</summary>
    public void Delete(long id)
    {
        using var cmd = Command("DELETE FROM snapshots WHERE id = $id");
        cmd.Parameters.AddWithValue("$id", id);
        cmd.ExecuteNonQuery();
    }

    public HashSet<long> AllIds()
    {
        using var cmd = Command("SELECT id FROM snapshots");
        using var reader = cmd.ExecuteReader();
        var ids = new HashSet<long>();
        while (reader.Read())
        {
            ids.Add(reader.GetInt64(0));
        }

        return ids;
    }

    /// <summary>Up to <paramref name="limit"/> records with ids above <paramref name="afterId"/>, in id order (keyset paging).</summary>
    public List<SnapshotRecord> ListPage(long afterId, int limit)
    {
        var rows = new List<(long Id, string Name, long? ParentId, string Parent, int Kind, long Created, long Updated, long Size, long Inodes)>();
        using (var cmd = Command(SelectRecord + "WHERE s.id > $after ORDER BY s.id LIMIT $limit"))
        {
            cmd.Parameters.AddWithValue("$after", afterId);
            cmd.Parameters.AddWithValue("$limit", limit);
            using var reader = cmd.ExecuteReader();
            while (reader.Read())
            {
                rows.Add(ReadColumns(reader));
            }
        }

        if (rows.Count == 0)
        {
            return [];
        }

        var labels = new Dictionary<long, Dictionary<string, string>>();
        using (var cmd = Command("SELECT snapshot_id, key, value FROM labels WHERE snapshot_id BETWEEN $lo AND $hi"))
        {
            cmd.Parameters.AddWithValue("$lo", rows[0].Id);
            cmd.Parameters.AddWithValue("$hi", rows[^1].Id);
            using var reader = cmd.ExecuteReader();
            while (reader.Read())
            {
                var id = reader.GetInt64(0);
                if (!labels.TryGetValue(id, out var map))
                {
                    labels[id] = map = new Dictionary<string, string>(StringComparer.Ordinal);
                }

                map[reader.GetString(1)] = reader.GetString(2);
            }
        }

        var records = new List<SnapshotRecord>(rows.Count);
        foreach (var r in rows)
        {
            records.Add(ToRecord(r, labels.TryGetValue(r.Id, out var map) ? map : new Dictionary<string, string>(StringComparer.Ordinal)));
        }

        return records;
    }

    private SnapshotRecord? ReadRecordRow(long id)
    {
        (long Id, string Name, long? ParentId, string Parent, int Kind, long Created, long Updated, long Size, long Inodes) row;
        using (var cmd = Command(SelectRecord + "WHERE s.id = $id"))
        {
            cmd.Parameters.AddWithValue("$id", id);
            using var reader = cmd.ExecuteReader();
            if (!reader.Read())
            {
                return null;
            }

            row = ReadColumns(reader);
        }

        return ToRecord(row, ReadLabels(id));
    }

    private Dictionary<string, string> ReadLabels(long id)
    {
        using var cmd = Command("SELECT key, value FROM labels WHERE snapshot_id = $id");
        cmd.Parameters.AddWithValue("$id", id);
        using var reader = cmd.ExecuteReader();
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        while (reader.Read())
        {
            labels[reader.GetString(0)] = reader.GetString(1);
        }

        return labels;
    }

    private static (long Id, string Name, long? ParentId, string Parent, int Kind, long Created, long Updated, long Size, long Inodes) ReadColumns(SqliteDataReader r) =>
        (r.GetInt64(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetInt64(2), r.IsDBNull(3) ? string.Empty : r.GetString(3),
            r.GetInt32(4), r.GetInt64(5), r.GetInt64(6), r.GetInt64(7), r.GetInt64(8));

    private static SnapshotRecord ToRecord(
        (long Id, string Name, long? ParentId, string Parent, int Kind, long Created, long Updated, long Size, long Inodes) r,
        Dictionary<string, string> labels) =>
        new(r.Id, r.Name, r.ParentId, r.Parent, (SnapshotKind)r.Kind,
            new DateTimeOffset(r.Created, TimeSpan.Zero), new DateTimeOffset(r.Updated, TimeSpan.Zero), r.Size, r.Inodes, labels);

    private void DeleteLabels(long id)
    {
        using var cmd = Command("DELETE FROM labels WHERE snapshot_id = $id");
        cmd.Parameters.AddWithValue("$id", id);
        cmd.ExecuteNonQuery();
    }

    private void InsertLabels(long id, IReadOnlyDictionary<string, string> labels)
    {
        if (labels.Count == 0)
        {
            return;
        }

        using var cmd = Command("INSERT INTO labels (snapshot_id, key, value) VALUES ($id, $key, $value)");
        var pId = cmd.Parameters.Add("$id", SqliteType.Integer);
        var pKey = cmd.Parameters.Add("$key", SqliteType.Text);
        var pValue = cmd.Parameters.Add("$value", SqliteType.Text);
        pId.Value = id;
        foreach (var (key, value) in labels)
        {
            pKey.Value = key;
            pValue.Value = value;
            cmd.ExecuteNonQuery();
        }
    }

    private SqliteCommand Command(string sql)
    {
        var cmd = _connection.CreateCommand();
        cmd.Transaction = _transaction;
        cmd.CommandText = sql;
        return cmd;
    }
}

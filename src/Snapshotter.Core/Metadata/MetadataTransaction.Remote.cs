using Snapshotter.Core.Remote;
using Snapshotter.Core.Snapshots;

namespace Snapshotter.Core.Metadata;

/// <summary>Queries of the <c>remote_layers</c> table (lazily pulled images).</summary>
internal sealed partial class MetadataTransaction
{
    /// <summary>Records the lazy-image facts of snapshot <paramref name="record"/>.SnapshotId (replacing earlier ones).</summary>
    public void InsertRemote(RemoteLayerRecord record)
    {
        using var cmd = Command(
            "INSERT OR REPLACE INTO remote_layers (snapshot_id, kind, image_ref, digest, size) VALUES ($id, $kind, $ref, $digest, $size)");
        cmd.Parameters.AddWithValue("$id", record.SnapshotId);
        cmd.Parameters.AddWithValue("$kind", (int)record.Kind);
        cmd.Parameters.AddWithValue("$ref", record.ImageRef);
        cmd.Parameters.AddWithValue("$digest", record.Digest);
        cmd.Parameters.AddWithValue("$size", record.Size);
        cmd.ExecuteNonQuery();
    }

    /// <summary>The remote row of snapshot <paramref name="id"/>, or null.</summary>
    public RemoteLayerRecord? FindRemote(long id)
    {
        using var cmd = Command("SELECT snapshot_id, kind, image_ref, digest, size FROM remote_layers WHERE snapshot_id = $id");
        cmd.Parameters.AddWithValue("$id", id);
        using var reader = cmd.ExecuteReader();
        return reader.Read() ? ReadRemote(reader) : null;
    }

    /// <summary>The remote rows of <paramref name="id"/> and its ancestors, by snapshot id (one query for the whole chain).</summary>
    public Dictionary<long, RemoteLayerRecord> RemoteLayersOfChain(long id)
    {
        using var cmd = Command(
            AncestorChain + " SELECT r.snapshot_id, r.kind, r.image_ref, r.digest, r.size FROM remote_layers r JOIN chain c ON r.snapshot_id = c.id");
        cmd.Parameters.AddWithValue("$id", id);
        using var reader = cmd.ExecuteReader();
        var result = new Dictionary<long, RemoteLayerRecord>();
        while (reader.Read())
        {
            var record = ReadRemote(reader);
            result[record.SnapshotId] = record;
        }

        return result;
    }

    /// <summary>
    /// True when an active or view snapshot has <paramref name="id"/> in its parent chain: a container (or view) that
    /// needs the lazy mount of that bootstrap.
    /// </summary>
    public bool HasActiveDescendants(long id)
    {
        using var cmd = Command(
            "WITH RECURSIVE d(id, kind) AS (" +
            " SELECT id, kind FROM snapshots WHERE parent_id = $id" +
            " UNION ALL SELECT s.id, s.kind FROM snapshots s JOIN d ON s.parent_id = d.id)" +
            " SELECT EXISTS (SELECT 1 FROM d WHERE kind IN ($active, $view))");
        cmd.Parameters.AddWithValue("$id", id);
        cmd.Parameters.AddWithValue("$active", (int)SnapshotKind.Active);
        cmd.Parameters.AddWithValue("$view", (int)SnapshotKind.View);
        return (long)cmd.ExecuteScalar()! != 0;
    }

    /// <summary>The digests of every data blob some snapshot still references.</summary>
    public HashSet<string> LiveRemoteDigests()
    {
        using var cmd = Command("SELECT DISTINCT digest FROM remote_layers WHERE kind = $kind");
        cmd.Parameters.AddWithValue("$kind", (int)RemoteLayerKind.DataBlob);
        using var reader = cmd.ExecuteReader();
        var digests = new HashSet<string>(StringComparer.Ordinal);
        while (reader.Read())
        {
            digests.Add(reader.GetString(0));
        }

        return digests;
    }

    private static RemoteLayerRecord ReadRemote(Microsoft.Data.Sqlite.SqliteDataReader reader) =>
        new(reader.GetInt64(0), (RemoteLayerKind)reader.GetInt32(1), reader.GetString(2), reader.GetString(3), reader.GetInt64(4));
}

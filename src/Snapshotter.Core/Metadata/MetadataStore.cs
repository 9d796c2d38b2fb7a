using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Snapshotter.Core.Metadata;

/// <summary>
/// The snapshot metadata on SQLite (<c>&lt;root&gt;/metadata.db</c>, WAL, synchronous=FULL). Every mutation is one
/// transaction, so a crash at any point leaves a consistent store. Writers are serialized in-process on one
/// connection (no SQLITE_BUSY between our own writers); readers take connections from a small pool of our own and run
/// concurrently.
/// </summary>
/// <remarks>
/// Microsoft.Data.Sqlite's own pooling is off: in 10.0.11 two concurrent opens can be handed the same native handle
/// (dotnet/efcore#39008), which showed here as "cannot start a transaction within a transaction" under 32 concurrent
/// containerd clients - and could have put a reader on the writer's connection.
/// </remarks>
internal sealed class MetadataStore : IAsyncDisposable
{
    /// <summary>The schema version this code writes; <see cref="Migrations"/>[i] moves version i to i+1.</summary>
    public const int SchemaVersion = 2;

    private static readonly Action<SqliteConnection, SqliteTransaction>[] Migrations =
    [
        static (connection, transaction) => Execute(connection, transaction,
            """
            CREATE TABLE snapshots (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                name TEXT NOT NULL UNIQUE,
                parent_id INTEGER NULL REFERENCES snapshots (id) ON DELETE RESTRICT,
                kind INTEGER NOT NULL,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL,
                size INTEGER NOT NULL DEFAULT 0,
                inodes INTEGER NOT NULL DEFAULT 0,
                backend TEXT NULL
            );
            CREATE INDEX snapshots_parent_id ON snapshots (parent_id);
            CREATE TABLE labels (
                snapshot_id INTEGER NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
                key TEXT NOT NULL,
                value TEXT NOT NULL,
                PRIMARY KEY (snapshot_id, key)
            ) WITHOUT ROWID;
            """),

        // 1 -> 2: what the remote-snapshot path remembers per snapshot of a lazily pulled image. Kept out of the labels,
        // which containerd may rewrite (Update with the "labels" mask replaces them all).
        static (connection, transaction) => Execute(connection, transaction,
            """
            CREATE TABLE remote_layers (
                snapshot_id INTEGER PRIMARY KEY REFERENCES snapshots (id) ON DELETE CASCADE,
                kind INTEGER NOT NULL,
                image_ref TEXT NOT NULL,
                digest TEXT NOT NULL,
                size INTEGER NOT NULL DEFAULT 0
            );
            CREATE INDEX remote_layers_digest ON remote_layers (digest);
            """),
    ];

    private static readonly Lazy<bool> Initialized = new(() =>
    {
        SQLitePCL.Batteries_V2.Init();
        return true;
    });

    // Idle reader connections kept open; more are opened under load and closed when returned beyond this.
    private const int MaxIdleReaders = 8;

    private readonly string _connectionString;
    private readonly SqliteConnection _writer;
    // No AvailableWaitHandle is ever taken, so the semaphore holds nothing to release; disposing it would fault the
    // calls that race the store's own disposal instead of letting them finish.
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA2213:Disposable fields should be disposed", Justification = "see above")]
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly System.Collections.Concurrent.ConcurrentBag<SqliteConnection> _idleReaders = new();
    private bool _disposed;
    private long _version;

    private MetadataStore(string connectionString, SqliteConnection writer)
    {
        _connectionString = connectionString;
        _writer = writer;
    }

    /// <summary>Opens (creating and migrating as needed) the store at <paramref name="path"/>.</summary>
    public static async Task<MetadataStore> OpenAsync(string path, ILogger logger, CancellationToken cancellationToken = default)
    {
        _ = Initialized.Value;
        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            ForeignKeys = true,
            Pooling = false,

            // Microsoft.Data.Sqlite retries SQLITE_BUSY/LOCKED for up to this many seconds.
            DefaultTimeout = 30,
        }.ToString();

        var writer = new SqliteConnection(connectionString);
        try
        {
            await writer.OpenAsync(cancellationToken).ConfigureAwait(false);
            Execute(writer, null, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=30000;");
            Migrate(writer, logger);
            return new MetadataStore(connectionString, writer);
        }
        catch
        {
            await writer.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Bumped after every committed write: a value read before a read transaction began still equals it afterwards only
    /// if no write committed in between, so results tagged with it can be cached until it changes.
    /// </summary>
    public long Version => Volatile.Read(ref _version);

    /// <summary>Runs <paramref name="body"/> in a read transaction on a pooled connection (a consistent snapshot).</summary>
    public async ValueTask<T> ReadAsync<T>(Func<MetadataTransaction, T> body, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        SqliteConnection? connection = null;
        var reusable = false;
        try
        {
            if (!_idleReaders.TryTake(out connection))
            {
                connection = new SqliteConnection(_connectionString);
                await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            }

            T result;
            using (var transaction = connection.BeginTransaction(deferred: true))
            {
                result = body(new MetadataTransaction(connection, transaction));
            }

            // Only a connection whose transaction ended cleanly goes back for reuse.
            reusable = true;
            return result;
        }
        catch (SqliteException e)
        {
            throw StoreError(e);
        }
        finally
        {
            if (connection is not null)
            {
                if (reusable && !Volatile.Read(ref _disposed) && _idleReaders.Count < MaxIdleReaders)
                {
                    _idleReaders.Add(connection);

                    // Disposal may have drained the pool between the check and the add.
                    while (Volatile.Read(ref _disposed) && _idleReaders.TryTake(out var late))
                    {
                        await late.DisposeAsync().ConfigureAwait(false);
                    }
                }
                else
                {
                    await connection.DisposeAsync().ConfigureAwait(false);
                }
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="body"/> in one immediate write transaction and commits it. When the body throws or the
    /// commit fails, the transaction rolls back and the undo actions the body registered run.
    /// </summary>
    public async ValueTask<T> WriteAsync<T>(Func<MetadataTransaction, T> body, CancellationToken cancellationToken = default)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            MetadataTransaction? tx = null;
            try
            {
                using var transaction = _writer.BeginTransaction(deferred: false);
                tx = new MetadataTransaction(_writer, transaction);
                var result = body(tx);
                transaction.Commit();
                Interlocked.Increment(ref _version);
                return result;
            }
            catch (SqliteException e)
            {
                RunUndo(tx);
                throw StoreError(e);
            }
            catch
            {
                RunUndo(tx);
                throw;
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            Volatile.Write(ref _disposed, true);
            await _writer.DisposeAsync().ConfigureAwait(false);
            while (_idleReaders.TryTake(out var reader))
            {
                await reader.DisposeAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private static void RunUndo(MetadataTransaction? tx)
    {
        if (tx is null)
        {
            return;
        }

        foreach (var undo in tx.RollbackActions)
        {
            try
            {
                undo();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or SnapshotterException)
            {
                // Leftovers of a failed undo are unowned directories; CleanupAsync removes them.
            }
        }
    }

    // SQLite failures (disk full, I/O error, corruption) reach callers as one error kind with the store named.
    private static SnapshotterException StoreError(SqliteException e) =>
        new(ErrorKind.Unknown, $"metadata store: {e.Message}", e);

    private static void Migrate(SqliteConnection connection, ILogger logger)
    {
        using var transaction = connection.BeginTransaction(deferred: false);
        var version = Convert.ToInt32(Scalar(connection, transaction, "PRAGMA user_version"), System.Globalization.CultureInfo.InvariantCulture);
        if (version > SchemaVersion)
        {
            throw SnapshotterException.FailedPrecondition(
                $"metadata schema version {version} is newer than this snapshotter supports ({SchemaVersion})");
        }

        for (var v = version; v < SchemaVersion; v++)
        {
            Migrations[v](connection, transaction);
            Log.SchemaMigrated(logger, v, v + 1);
        }

        // PRAGMA takes no parameters; the value is our own integer constant.
        Execute(connection, transaction, $"PRAGMA user_version = {SchemaVersion}");
        transaction.Commit();
    }

    private static void Execute(SqliteConnection connection, SqliteTransaction? transaction, string sql)
    {
        using var cmd = connection.CreateCommand();
        cmd.Transaction = transaction;
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    private static object? Scalar(SqliteConnection connection, SqliteTransaction? transaction, string sql)
    {
        using var cmd = connection.CreateCommand();
        cmd.Transaction = transaction;
        cmd.CommandText = sql;
        return cmd.ExecuteScalar();
    }
}

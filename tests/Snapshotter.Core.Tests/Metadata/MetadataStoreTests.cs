using Microsoft.Extensions.Logging.Abstractions;
using Snapshotter.Core.Metadata;
using Snapshotter.Core.Snapshots;

namespace Snapshotter.Core.Tests.Metadata;

public sealed class MetadataStoreTests : IAsyncLifetime
{
    private static readonly IReadOnlyDictionary<string, string> NoLabels = new Dictionary<string, string>();

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "core-store-" + Guid.NewGuid().ToString("N"));
    private MetadataStore _store = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_dir);
        _store = await MetadataStore.OpenAsync(Path.Combine(_dir, "metadata.db"), NullLogger.Instance);
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task ConcurrentReadsAndWrites_ManyTasks_NoTransactionErrorsAndEveryWriteVisible()
    {
        // Regression: with Microsoft.Data.Sqlite's pool, concurrent opens could share one native handle and fail with
        // "cannot start a transaction within a transaction" (seen with 32 concurrent containerd clients).
        var errors = new System.Collections.Concurrent.ConcurrentBag<Exception>();
        var workers = Enumerable.Range(0, 32).Select(worker => Task.Run(async () =>
        {
            for (var i = 0; i < 60; i++)
            {
                try
                {
                    var name = $"w{worker}-{i}";
                    if (i % 3 == 0)
                    {
                        await _store.WriteAsync(tx => tx.Insert(name, null, SnapshotKind.Active, NoLabels, DateTimeOffset.UtcNow));
                        Assert.NotNull(await _store.ReadAsync(tx => tx.Find(name)));
                    }
                    else
                    {
                        await _store.ReadAsync(tx => tx.ListPage(0, 50));
                    }
                }
                catch (Exception e)
                {
                    errors.Add(e);
                }
            }
        })).ToArray();
        await Task.WhenAll(workers);

        Assert.Empty(errors);
        Assert.Equal(32 * 20, (await _store.ReadAsync(tx => tx.AllIds())).Count);
    }

    [Fact]
    public async Task WriteAsync_BodyThrows_RollsBackAndRunsUndo()
    {
        var undone = false;

        await Assert.ThrowsAsync<InvalidOperationException>(() => _store.WriteAsync<long>(tx =>
        {
            tx.Insert("a", null, SnapshotKind.Active, new Dictionary<string, string> { ["k"] = "v" }, DateTimeOffset.UtcNow);
            tx.OnRollback(() => undone = true);
            throw new InvalidOperationException("boom");
        }).AsTask());

        Assert.True(undone);
        Assert.Null(await _store.ReadAsync(tx => tx.Find("a")));
    }

    [Fact]
    public async Task WriteAsync_Commits_UndoNotRunAndRowVisible()
    {
        var undone = false;
        var now = new DateTimeOffset(2025, 5, 6, 7, 8, 9, TimeSpan.Zero);

        var id = await _store.WriteAsync(tx =>
        {
            tx.OnRollback(() => undone = true);
            return tx.Insert("a", null, SnapshotKind.View, new Dictionary<string, string> { ["k"] = "v" }, now);
        });

        Assert.False(undone);
        var record = await _store.ReadAsync(tx => tx.Find("a"));
        Assert.NotNull(record);
        Assert.Equal(id, record.Id);
        Assert.Equal(SnapshotKind.View, record.Kind);
        Assert.Equal(now, record.CreatedAt);
        Assert.Equal("v", record.Labels["k"]);
    }

    [Fact]
    public async Task ReadAsync_WhileWriterHoldsTransaction_IsNotBlockedAndSeesCommittedState()
    {
        await _store.WriteAsync(tx => tx.Insert("committed", null, SnapshotKind.Active, NoLabels, DateTimeOffset.UtcNow));
        using var inserted = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();

        var writer = Task.Run(() => _store.WriteAsync(tx =>
        {
            var id = tx.Insert("pending", null, SnapshotKind.Active, NoLabels, DateTimeOffset.UtcNow);
            inserted.Set();
            release.Wait(TimeSpan.FromSeconds(10));
            return id;
        }).AsTask());
        Assert.True(inserted.Wait(TimeSpan.FromSeconds(10)));

        var during = await _store.ReadAsync(tx => tx.AllIds().Count);
        release.Set();
        await writer;
        var after = await _store.ReadAsync(tx => tx.AllIds().Count);

        Assert.Equal(1, during);
        Assert.Equal(2, after);
    }

    [Fact]
    public async Task Delete_ParentWithChild_RejectedByForeignKey()
    {
        var parent = await _store.WriteAsync(tx => tx.Insert("p", null, SnapshotKind.Committed, NoLabels, DateTimeOffset.UtcNow));
        await _store.WriteAsync(tx => tx.Insert("c", parent, SnapshotKind.Active, NoLabels, DateTimeOffset.UtcNow));

        var e = await Assert.ThrowsAsync<SnapshotterException>(() => _store.WriteAsync(tx =>
        {
            tx.Delete(parent);
            return 0;
        }).AsTask());

        Assert.Equal(ErrorKind.Unknown, e.Kind);
        Assert.StartsWith("metadata store:", e.Message);
        Assert.Contains("FOREIGN KEY", e.Message);
        Assert.NotNull(await _store.ReadAsync(tx => tx.Find("p")));
    }

    [Fact]
    public async Task GetChain_ThreeLevels_ReturnsNearestFirst()
    {
        var now = DateTimeOffset.UtcNow;
        var (a, b, c) = await _store.WriteAsync(tx =>
        {
            var a = tx.Insert("a", null, SnapshotKind.Committed, NoLabels, now);
            var b = tx.Insert("b", a, SnapshotKind.Committed, NoLabels, now);
            var c = tx.Insert("c", b, SnapshotKind.Committed, NoLabels, now);
            return (a, b, c);
        });

        var chain = await _store.ReadAsync(tx => tx.GetChain(c));

        Assert.Equal([c, b, a], chain);
        Assert.Equal("b", (await _store.ReadAsync(tx => tx.Find("c")))!.Parent);
    }

    [Fact]
    public async Task Delete_Snapshot_CascadesLabels()
    {
        var id = await _store.WriteAsync(tx => tx.Insert("a", null, SnapshotKind.Active, new Dictionary<string, string> { ["x"] = "1", ["y"] = "2" }, DateTimeOffset.UtcNow));
        await _store.WriteAsync(tx =>
        {
            tx.Delete(id);
            return 0;
        });

        var b = await _store.WriteAsync(tx => tx.Insert("b", null, SnapshotKind.Active, NoLabels, DateTimeOffset.UtcNow));
        var page = await _store.ReadAsync(tx => tx.ListPage(0, 10));

        Assert.True(b > id);
        var only = Assert.Single(page);
        Assert.Empty(only.Labels);
    }
}

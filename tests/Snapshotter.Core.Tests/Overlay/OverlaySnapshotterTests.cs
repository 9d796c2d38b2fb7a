using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Snapshotter.Core.Overlay;
using Snapshotter.Core.Snapshots;

namespace Snapshotter.Core.Tests.Overlay;

/// <summary>Overlay-specific behaviour: on-disk layout, cleanup of orphans, crash consistency, schema versioning.</summary>
public sealed class OverlaySnapshotterTests : IAsyncLifetime
{
    private static readonly IReadOnlyDictionary<string, string> NoLabels = new Dictionary<string, string>();

    private readonly string _root = Path.Combine(Path.GetTempPath(), "core-overlay-" + Guid.NewGuid().ToString("N"));
    private OverlaySnapshotter _snapshotter = null!;

    private string SnapshotsDir => Path.Combine(_root, "snapshots");

    private string DbPath => Path.Combine(_root, "metadata.db");

    public async Task InitializeAsync()
    {
        _snapshotter = await OverlaySnapshotter.OpenAsync(_root, NullLoggerFactory.Instance);
    }

    public async Task DisposeAsync()
    {
        await _snapshotter.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    private static string SnapshotDirOf(IReadOnlyList<Mount> mounts)
    {
        var mount = Assert.Single(mounts);
        var fs = mount.Type == "bind" ? mount.Source : mount.Options.Single(o => o.StartsWith("upperdir=", StringComparison.Ordinal))["upperdir=".Length..];
        return Path.GetDirectoryName(fs)!;
    }

    private SqliteConnection OpenDb()
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DbPath, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    private object? Scalar(string sql)
    {
        using var connection = OpenDb();
        using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        return cmd.ExecuteScalar();
    }

    private async Task<List<string>> NamesAsync()
    {
        var names = new List<string>();
        await foreach (var info in _snapshotter.WalkAsync(SnapshotFilter.All))
        {
            names.Add(info.Name);
        }

        names.Sort(StringComparer.Ordinal);
        return names;
    }

    [Fact]
    public void OpenAsync_NewRoot_CreatesWalStoreWithCurrentSchema()
    {
        Assert.True(File.Exists(DbPath));
        Assert.True(Directory.Exists(SnapshotsDir));
        Assert.Equal("wal", Scalar("PRAGMA journal_mode"));
        Assert.Equal(2L, Scalar("PRAGMA user_version"));
        Assert.Equal(1L, Scalar("SELECT COUNT(*) FROM pragma_table_info('snapshots') WHERE name = 'backend'"));
        Assert.Equal(1L, Scalar("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'remote_layers'"));
        Assert.Equal(_root, _snapshotter.Root);
    }

    [Fact]
    public async Task OpenAsync_NewerSchemaVersion_ThrowsFailedPrecondition()
    {
        await _snapshotter.DisposeAsync();
        Scalar("PRAGMA user_version = 99");

        var e = await Assert.ThrowsAsync<SnapshotterException>(() => OverlaySnapshotter.OpenAsync(_root, NullLoggerFactory.Instance));

        Assert.Equal(ErrorKind.FailedPrecondition, e.Kind);
        Assert.Contains("99", e.Message);
        Scalar("PRAGMA user_version = 2");
        _snapshotter = await OverlaySnapshotter.OpenAsync(_root, NullLoggerFactory.Instance);
    }

    [Fact]
    public async Task Stat_RepeatedWhileOtherCallsWrite_AlwaysSeesTheLatestCommittedState()
    {
        await _snapshotter.PrepareAsync("a", "", NoLabels);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        var writes = 0;
        var writer = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var n = ++writes;
                await _snapshotter.UpdateAsync(new SnapshotInfo("a", "", SnapshotKind.Active, default, default, new Dictionary<string, string> { ["n"] = n.ToString(System.Globalization.CultureInfo.InvariantCulture) }), ["labels"]);
            }
        });
        var readers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            var last = 0;
            while (!stop.IsCancellationRequested)
            {
                var info = await _snapshotter.StatAsync("a");
                var seen = info.Labels.TryGetValue("n", out var v) ? int.Parse(v, System.Globalization.CultureInfo.InvariantCulture) : 0;
                Assert.True(seen >= last, $"a Stat went back in time: {seen} after {last}");
                last = seen;
            }
        })).ToArray();
        await Task.WhenAll(readers.Append(writer));

        var final = await _snapshotter.StatAsync("a");
        Assert.Equal(writes.ToString(System.Globalization.CultureInfo.InvariantCulture), final.Labels["n"]);
        await _snapshotter.RemoveAsync("a");
        await Assert.ThrowsAsync<SnapshotterException>(() => _snapshotter.StatAsync("a").AsTask());
    }

    [Fact]
    public async Task OpenAsync_SchemaVersion1_MigratesKeepingSnapshots()
    {
        await _snapshotter.PrepareAsync("a", "", NoLabels);
        await _snapshotter.CommitAsync("c", "a", NoLabels);
        await _snapshotter.DisposeAsync();

        // What a version-1 store looks like: no remote_layers table.
        Scalar("DROP TABLE remote_layers");
        Scalar("PRAGMA user_version = 1");

        _snapshotter = await OverlaySnapshotter.OpenAsync(_root, NullLoggerFactory.Instance);

        Assert.Equal(2L, Scalar("PRAGMA user_version"));
        Assert.Equal(1L, Scalar("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'remote_layers'"));
        Assert.Equal(SnapshotKind.Committed, (await _snapshotter.StatAsync("c")).Kind);
    }

    [Fact]
    public async Task Prepare_ActiveAndView_CreateFsAndWorkOnlyForActive()
    {
        var active = SnapshotDirOf(await _snapshotter.PrepareAsync("a", "", NoLabels));
        var view = SnapshotDirOf(await _snapshotter.ViewAsync("v", "", NoLabels));

        Assert.Equal(SnapshotsDir, Path.GetDirectoryName(active));
        Assert.True(long.TryParse(Path.GetFileName(active), out _));
        Assert.True(Directory.Exists(Path.Combine(active, "fs")));
        Assert.True(Directory.Exists(Path.Combine(active, "work")));
        Assert.True(Directory.Exists(Path.Combine(view, "fs")));
        Assert.False(Directory.Exists(Path.Combine(view, "work")));
    }

    [Fact]
    public async Task Commit_Active_KeepsSameDirectory()
    {
        var dir = SnapshotDirOf(await _snapshotter.PrepareAsync("a", "", NoLabels));
        await File.WriteAllTextAsync(Path.Combine(dir, "fs", "f"), "x");
        await _snapshotter.CommitAsync("layer", "a", NoLabels);

        var mount = Assert.Single(await _snapshotter.ViewAsync("v", "layer", NoLabels));

        Assert.Equal(Path.Combine(dir, "fs"), mount.Source);
    }

    [Fact]
    public async Task Cleanup_OrphansPresent_RemovesOnlyOrphans()
    {
        var live = SnapshotDirOf(await _snapshotter.PrepareAsync("a", "", NoLabels));
        await File.WriteAllTextAsync(Path.Combine(live, "fs", "keep"), "k");
        var outside = Path.Combine(_root, "outside");
        Directory.CreateDirectory(outside);
        await File.WriteAllTextAsync(Path.Combine(outside, "precious"), "p");

        var orphan = Path.Combine(SnapshotsDir, "987654");
        Directory.CreateDirectory(Path.Combine(orphan, "fs", "ro"));
        await File.WriteAllTextAsync(Path.Combine(orphan, "fs", "ro", "f"), "f");
        File.CreateSymbolicLink(Path.Combine(orphan, "fs", "escape"), outside);
        Interop.TestLibc.Link(Path.Combine(outside, "precious"), Path.Combine(orphan, "fs", "hardlink"));
        Core.Interop.Syscalls.Chmod(Path.Combine(orphan, "fs", "ro"), 0x16D);
        var removing = Path.Combine(SnapshotsDir, "rm-12");
        Directory.CreateDirectory(Path.Combine(removing, "fs"));
        var stray = Path.Combine(SnapshotsDir, "stray-file");
        await File.WriteAllTextAsync(stray, "s");

        await _snapshotter.CleanupAsync();

        Assert.Equal([live], Directory.EnumerateFileSystemEntries(SnapshotsDir));
        Assert.Equal("k", await File.ReadAllTextAsync(Path.Combine(live, "fs", "keep")));
        Assert.Equal("p", await File.ReadAllTextAsync(Path.Combine(outside, "precious")));
        Assert.Equal(["a"], await NamesAsync());
    }

    [Fact]
    public async Task Remove_DirectoryUndeletable_SucceedsAndCleanupFinishesLater()
    {
        var dir = SnapshotDirOf(await _snapshotter.PrepareAsync("a", "", NoLabels));
        var pinned = Path.Combine(dir, "fs", "pinned");
        await File.WriteAllTextAsync(pinned, "x");
        Assert.Equal(0, await RunAsync("chattr", "+i", pinned));
        try
        {
            await _snapshotter.RemoveAsync("a");

            // The rows are gone at once; the tree was only renamed aside because a file is immutable.
            Assert.Empty(await NamesAsync());
            var leftover = Assert.Single(Directory.EnumerateDirectories(SnapshotsDir));
            Assert.StartsWith("rm-", Path.GetFileName(leftover));
            Assert.True(File.Exists(Path.Combine(leftover, "fs", "pinned")));
        }
        finally
        {
            foreach (var file in Directory.EnumerateFiles(SnapshotsDir, "pinned", SearchOption.AllDirectories))
            {
                Assert.Equal(0, await RunAsync("chattr", "-i", file));
            }
        }

        await _snapshotter.CleanupAsync();
        Assert.Empty(Directory.EnumerateFileSystemEntries(SnapshotsDir));
    }

    [Fact]
    public async Task Crash_WriterKilledMidPrepare_StoreConsistentAndCleanupRemovesItsDirectory()
    {
        await _snapshotter.PrepareAsync("before", "", NoLabels);
        var orphanDir = await CrashMidPrepareAsync("crashed");

        Assert.Equal(["before"], await NamesAsync());
        Assert.Equal("ok", Scalar("PRAGMA integrity_check"));
        Assert.Equal(0L, Scalar("SELECT COUNT(*) FROM snapshots WHERE name = 'crashed'"));
        Assert.True(Directory.Exists(orphanDir));

        await _snapshotter.CleanupAsync();

        Assert.False(Directory.Exists(orphanDir));
        Assert.Single(Directory.EnumerateFileSystemEntries(SnapshotsDir));
        await _snapshotter.PrepareAsync("after", "", NoLabels);
        Assert.Equal(["after", "before"], await NamesAsync());
    }

    [Fact]
    public async Task Crash_WriterKilledMidPrepare_NextPrepareReusingIdStartsEmpty()
    {
        var orphanDir = await CrashMidPrepareAsync("crashed");

        var mounts = await _snapshotter.PrepareAsync("next", "", NoLabels);

        // The rolled-back insert handed out the same id again; the stale directory must not leak into it.
        Assert.Equal(orphanDir, SnapshotDirOf(mounts));
        Assert.Empty(Directory.EnumerateFileSystemEntries(mounts[0].Source));
    }

    [Fact]
    public async Task Crash_ReopenAfterKill_SeesOnlyCommittedMutations()
    {
        await _snapshotter.PrepareAsync("kept", "", NoLabels);
        await CrashMidPrepareAsync("crashed");
        await _snapshotter.DisposeAsync();

        _snapshotter = await OverlaySnapshotter.OpenAsync(_root, NullLoggerFactory.Instance);

        Assert.Equal(["kept"], await NamesAsync());
        await _snapshotter.CommitAsync("kept-c", "kept", NoLabels);
        Assert.Equal(SnapshotKind.Committed, (await _snapshotter.StatAsync("kept-c")).Kind);
    }

    /// <summary>
    /// Runs Debian's sqlite3 CLI as a second writer that does what Prepare does (insert the row, create the
    /// directory) inside an open transaction, then SIGKILLs it before COMMIT. Returns the directory it created.
    /// </summary>
    private async Task<string> CrashMidPrepareAsync(string name)
    {
        var nextId = (long)(Scalar("SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'snapshots'), 0)") ?? 0L) + 1;
        var dir = Path.Combine(SnapshotsDir, nextId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var ready = Path.Combine(_root, "crash-ready");
        var psi = new ProcessStartInfo("sqlite3", [DbPath])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(psi)!;
        try
        {
            await process.StandardInput.WriteLineAsync(".timeout 10000");
            await process.StandardInput.WriteLineAsync("BEGIN IMMEDIATE;");
            await process.StandardInput.WriteLineAsync($"INSERT INTO snapshots (id, name, parent_id, kind, created_at, updated_at) VALUES ({nextId}, '{name}', NULL, 2, 0, 0);");
            await process.StandardInput.WriteLineAsync($".shell mkdir -p {dir}/fs {dir}/work && echo stale > {dir}/fs/stale && touch {ready}");
            await process.StandardInput.FlushAsync();
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (!File.Exists(ready))
            {
                Assert.True(DateTime.UtcNow < deadline, "sqlite3 did not reach the crash point: " + await ReadErrorAsync(process));
                await Task.Delay(10);
            }
        }
        finally
        {
            process.Kill();
            await process.WaitForExitAsync();
            File.Delete(ready);
        }

        Assert.Equal(137, process.ExitCode);
        return dir;
    }

    private static async Task<string> ReadErrorAsync(Process process)
    {
        if (!process.HasExited)
        {
            return "(still running)";
        }

        return await process.StandardError.ReadToEndAsync();
    }

    private static async Task<int> RunAsync(string file, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args))!;
        await process.WaitForExitAsync();
        return process.ExitCode;
    }
}

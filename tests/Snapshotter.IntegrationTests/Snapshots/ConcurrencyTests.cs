using Snapshotter.IntegrationTests.Fixtures;
using Xunit.Abstractions;

namespace Snapshotter.IntegrationTests.Snapshots;

/// <summary>32 concurrent ctr loops through containerd into our service: no errors, no leaks.</summary>
[Collection(IntegrationCollection.Name)]
public sealed class ConcurrencyTests : IntegrationTest, IClassFixture<ContainerdFixture>
{
    private const int Workers = 32;
    private const int Iterations = 5;

    public ConcurrencyTests(ContainerdFixture fixture, ITestOutputHelper output)
        : base(fixture, output)
    {
    }

    [Fact]
    public async Task PrepareCommitRemove_32ConcurrentLoops_AllSucceedAndLeaveNothingBehind()
    {
        var ctr = Fixture.Ctr(Fixture.NewNamespace("conc"));
        await ctr.SnapshotsOkAsync(Snapshotter, "prepare", "base-active");
        await ctr.SnapshotsOkAsync(Snapshotter, "commit", "base", "base-active");

        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var stopGc = new CancellationTokenSource();

        // containerd's garbage collector walks and removes backend snapshots: run it concurrently too.
        var gcLoop = Task.Run(async () =>
        {
            int runs = 0;
            while (!stopGc.IsCancellationRequested)
            {
                await Fixture.CollectGarbageAsync();
                runs++;
                await Task.Delay(200);
            }

            return runs;
        });
        var workers = Enumerable.Range(0, Workers).Select(w => Task.Run(async () =>
        {
            for (int i = 0; i < Iterations; i++)
            {
                string active = $"w{w}-i{i}-active";
                string committed = $"w{w}-i{i}";
                foreach (string[] args in new[]
                {
                    new[] { "prepare", active, "base" },
                    ["mounts", "/target", active],
                    ["commit", committed, active],
                    ["info", committed],
                    ["usage", committed],
                    ["rm", committed],
                })
                {
                    var r = await ctr.SnapshotsAsync(Snapshotter, args);
                    if (r.ExitCode != 0)
                    {
                        failures.Enqueue(r.ToString());
                    }
                }
            }
        }));
        await Task.WhenAll(workers);
        await stopGc.CancelAsync();
        int gcRuns = await gcLoop;

        Assert.True(gcRuns > 0, "the GC loop never ran");
        Assert.True(failures.IsEmpty, $"{failures.Count} ctr calls failed; the first ones:\n{string.Join("\n", failures.Take(5))}");
        Assert.Equal([new("base", "", "Committed")], CtrOutput.Ls(await ctr.SnapshotsOkAsync(Snapshotter, "ls")));

        // containerd removes backend snapshots in its garbage collector; run it once more, synchronously.
        await Fixture.CollectGarbageAsync();

        var ours = Fixture.RequireSnapshotter();
        string[] dirs = Directory.GetDirectories(Path.Combine(ours.Root, "snapshots"));
        int listed = await Fixture.CountAllSnapshotsAsync(); // 'base' and the fixture's probe
        Assert.Equal(2, listed);
        Assert.True(dirs.Length == listed, $"snapshots/ should hold only the {listed} snapshots ls shows, found {dirs.Length}: {string.Join(", ", dirs.Select(Path.GetFileName))}");
        Assert.Empty(Mounts.Under(ours.Root));
    }
}

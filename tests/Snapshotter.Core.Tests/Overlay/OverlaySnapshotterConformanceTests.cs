using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Snapshotter.Core.Overlay;
using Snapshotter.Core.Snapshots;
using Snapshotter.Core.Tests.Snapshots;

namespace Snapshotter.Core.Tests.Overlay;

public sealed class OverlaySnapshotterConformanceTests : SnapshotterConformanceTests
{
    private protected override async Task<ISnapshotter> OpenAsync(string root) =>
        await OverlaySnapshotter.OpenAsync(root, NullLoggerFactory.Instance);

    protected override void AssertNoLeakedState(int liveSnapshots)
    {
        var entries = Directory.EnumerateFileSystemEntries(Path.Combine(Root, "snapshots")).Select(Path.GetFileName).ToList();
        Assert.Equal(liveSnapshots, entries.Count);
        Assert.All(entries, name => Assert.True(long.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out _), name));
    }
}

using System.Diagnostics;

namespace Snapshotter.Telemetry;

/// <summary>The service's <see cref="ActivitySource"/>: spans around snapshot calls, lazy mounts and registry fetches.</summary>
public static class SnapshotterActivities
{
    public const string SourceName = "Snapshotter";

    public static ActivitySource Source { get; } = new(SourceName);
}

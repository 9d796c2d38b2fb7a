namespace Snapshotter.IntegrationTests.Fixtures;

/// <summary>Where the daemons' captured logs stood when a test started.</summary>
public readonly record struct LogMark(int SnapshotterLine, int ContainerdLine);

namespace Snapshotter.IntegrationTests.Fixtures;

/// <summary>One row of <c>ctr snapshots ls</c>; <see cref="Parent"/> is empty for a root snapshot.</summary>
public sealed record CtrLsRow(string Key, string Parent, string Kind);

namespace Snapshotter.IntegrationTests.Fixtures;

/// <summary>What <c>ctr snapshots info</c> prints (containerd's snapshots.Info field names).</summary>
public sealed record CtrInfo(string Name, string? Parent, string Kind, IReadOnlyDictionary<string, string> Labels, DateTimeOffset Created, DateTimeOffset Updated);

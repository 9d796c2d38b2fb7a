namespace Snapshotter.IntegrationTests.Fixtures;

/// <summary>One mount as <c>ctr snapshots prepare/view --mounts</c> prints it.</summary>
public sealed record CtrMount(string Type, string Source, IReadOnlyList<string> Options);

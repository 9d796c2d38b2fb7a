namespace Snapshotter.IntegrationTests.Fixtures;

/// <summary>One line of /proc/self/mountinfo: where, what file system, from what, with which super block options.</summary>
public sealed record MountEntry(string MountPoint, string FsType, string Source, string SuperOptions);

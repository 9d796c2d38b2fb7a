namespace Snapshotter.Core.Remote;

/// <summary>What the metadata transaction of a remote commit found.</summary>
internal enum RemoteCommitOutcome
{
    /// <summary>The layer was committed remotely now.</summary>
    Committed,

    /// <summary>A matching snapshot was already there (another namespace pulled the image).</summary>
    Exists,

    /// <summary>A snapshot of that name exists on another parent.</summary>
    Conflict,

    /// <summary>The parent is missing or not committed: the ordinary path reports it.</summary>
    ParentInvalid,
}

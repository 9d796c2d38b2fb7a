namespace Snapshotter.Lazy;

/// <summary>How far a download has come (the bootstrap layer <c>snapshotter mount</c> fetches), reported as bytes arrive.</summary>
/// <param name="Name">What is downloaded, e.g. <c>bootstrap sha256:…</c>.</param>
/// <param name="BytesDone">Bytes received so far.</param>
/// <param name="TotalBytes">The size announced by the manifest.</param>
public readonly record struct DownloadProgress(string Name, long BytesDone, long TotalBytes);

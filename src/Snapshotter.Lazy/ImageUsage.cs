namespace Snapshotter.Lazy;

/// <summary>What one mounted image's data blobs cost so far.</summary>
/// <param name="ImageRef">The image reference.</param>
/// <param name="FetchedBytes">Stored bytes fetched from the registry for its blobs (shared blobs count in every image using them).</param>
/// <param name="ReadBytes">Bytes the kernel read from its blobs through this daemon (0 in blob-fetch mode: the kernel reads local files).</param>
/// <param name="Blobs">Its data blobs.</param>
public sealed record ImageUsage(string ImageRef, long FetchedBytes, long ReadBytes, int Blobs);

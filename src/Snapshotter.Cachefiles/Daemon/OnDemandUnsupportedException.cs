namespace Snapshotter.Cachefiles.Daemon;

/// <summary>The kernel (or the cache directory's filesystem) cannot do cachefiles on-demand mode; the message says why.</summary>
public sealed class OnDemandUnsupportedException(string message, Exception? innerException = null) : Exception(message, innerException);

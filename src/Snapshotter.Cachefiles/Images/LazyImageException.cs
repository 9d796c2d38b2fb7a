namespace Snapshotter.Cachefiles.Images;

/// <summary>An image that cannot be served lazily; the message names the image and what is wrong with it.</summary>
public sealed class LazyImageException(string message, Exception? innerException = null) : Exception(message, innerException);

namespace Snapshotter.Erofs;

/// <summary>
/// Thrown when a bootstrap, data blob, layer or image layout is malformed. The message names the
/// structure and the field that is wrong, so a corrupt image is diagnosable without a debugger.
/// </summary>
public sealed class InvalidImageException : Exception
{
    public InvalidImageException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}

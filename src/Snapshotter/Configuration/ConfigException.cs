namespace Snapshotter.Configuration;

/// <summary>A configuration problem the user must fix; the message names the source and the field.</summary>
internal sealed class ConfigException(string message, Exception? innerException = null) : Exception(message, innerException);

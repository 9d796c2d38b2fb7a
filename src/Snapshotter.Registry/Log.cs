using Microsoft.Extensions.Logging;

namespace Snapshotter.Registry;

/// <summary>Log messages of the registry client (event ids 3000-3099). Never pass credentials or tokens.</summary>
internal static partial class Log
{
    [LoggerMessage(3000, LogLevel.Debug, "Retrying {Operation} on {Host} in {DelayMs} ms after attempt {Attempt}: {Reason}")]
    public static partial void Retrying(ILogger logger, string operation, string host, long delayMs, int attempt, string reason);

    [LoggerMessage(3001, LogLevel.Warning, "{Operation} failed on {Host}, trying the next host: {Reason}")]
    public static partial void HostFailed(ILogger logger, string operation, string host, string reason);

    [LoggerMessage(3002, LogLevel.Debug, "Following {Status} redirect for {Operation} to {TargetHost}")]
    public static partial void Redirected(ILogger logger, int status, string operation, string targetHost);

    [LoggerMessage(3003, LogLevel.Debug, "Cached redirect target for {Blob} failed, going back to the registry: {Reason}")]
    public static partial void RedirectTargetFailed(ILogger logger, string blob, string reason);

    [LoggerMessage(3004, LogLevel.Debug, "Fetched a bearer token for {Host} scope {Scope}, valid {ExpiresIn} s")]
    public static partial void TokenFetched(ILogger logger, string host, string scope, long expiresIn);

    [LoggerMessage(3005, LogLevel.Warning, "Docker config {Path} is unreadable ({Error}); continuing without it")]
    public static partial void DockerConfigUnreadable(ILogger logger, string? path, string error);

    [LoggerMessage(3006, LogLevel.Debug, "Credential helper {Program} is not installed")]
    public static partial void CredentialHelperMissing(ILogger logger, string program);

    [LoggerMessage(3007, LogLevel.Debug, "Credential helper {Program} exited with {ExitCode}; no credentials from it")]
    public static partial void CredentialHelperFailed(ILogger logger, string program, int exitCode);

    [LoggerMessage(3008, LogLevel.Debug, "Uploaded blob {Digest} to {Repository} ({Bytes} bytes, {Chunks} chunks)")]
    public static partial void BlobUploaded(ILogger logger, string digest, string repository, long bytes, int chunks);
}

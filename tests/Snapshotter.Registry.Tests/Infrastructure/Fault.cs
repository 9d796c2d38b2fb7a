namespace Snapshotter.Registry.Tests.Infrastructure;

/// <summary>One injected failure for the next matching request(s).</summary>
internal sealed record Fault(FaultKind Kind)
{
    public int Status { get; init; } = 503;

    public string? RetryAfter { get; init; }

    public Uri? Location { get; init; }

    /// <summary>Which requests the fault applies to; defaults to blob GETs.</summary>
    public Func<Microsoft.AspNetCore.Http.HttpRequest, bool> Matches { get; init; } =
        r => r.Method == "GET" && r.Path.Value!.Contains("/blobs/", StringComparison.Ordinal);
}

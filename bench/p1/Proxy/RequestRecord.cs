namespace Snapshotter.P1.Benchmarks.Proxy;

/// <summary>
/// One HTTP request that crossed the proxy: when its header arrived, when the last response byte went out, the
/// response bytes (everything sent back on its connection until the next request), and what it asked for.
/// </summary>
internal sealed class RequestRecord(int connection, long started, string method, string target, string? range)
{
    public int Connection { get; } = connection;

    /// <summary>Stopwatch timestamp of the request header.</summary>
    public long Started { get; } = started;

    public string Method { get; } = method;

    public string Target { get; } = target;

    public string? Range { get; } = range;

    /// <summary>Stopwatch timestamp of the last response byte sent so far.</summary>
    public long Finished { get; set; } = started;

    public long ResponseBytes { get; set; }
}

namespace Snapshotter.P1.Benchmarks.Measurement;

/// <summary>
/// Where a sample's time went, from the proxy's request trace (seconds from the start of the pull command):
/// the first registry request (the pull client is up), the last response byte of the downloads before the first line,
/// the first Range request (lazy: the container's first data read reaching the registry), and the Range requests and
/// their bytes by the first line.
/// </summary>
internal sealed record SamplePhases(double FirstRequest, double LastByteBeforeFirstLine, double? FirstRangeRequest, int RangeRequestsByFirstLine, long RangeBytesByFirstLine);

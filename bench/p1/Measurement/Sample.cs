namespace Snapshotter.P1.Benchmarks.Measurement;

/// <summary>
/// One measured pull-and-run. Times are seconds from the start of the pull command; bytes are what the proxy carried
/// (registry to clients = down, the other way = up). <see cref="LocalFirstLineSeconds"/> is a second start of the same
/// image afterwards (page cache dropped, <c>ctr run</c> only): the floor for the ordinary image.
/// </summary>
internal sealed record Sample(
    PullCase Case,
    long RateMbit,
    int Round,
    double PullSeconds,
    double FirstLineSeconds,
    double ReadySeconds,
    double ExitSeconds,
    long DownAtFirstLine,
    long UpAtFirstLine,
    long DownTotal,
    long UpTotal,
    int RequestsAtFirstLine,
    double LocalFirstLineSeconds,
    string? LazyMode,
    SamplePhases Phases,
    IReadOnlyList<string> Trace);

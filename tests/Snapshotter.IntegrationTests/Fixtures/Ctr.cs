namespace Snapshotter.IntegrationTests.Fixtures;

/// <summary>Runs <c>ctr -a ADDRESS -n NAMESPACE ...</c> against the fixture's containerd.</summary>
public sealed class Ctr
{
    private readonly string _address;

    public Ctr(string address, string @namespace)
    {
        _address = address;
        Namespace = @namespace;
    }

    public string Namespace { get; }

    /// <summary>Runs ctr with <paramref name="args"/>, returning exit code and output (never throws on a non-zero exit).</summary>
    public Task<ProcessResult> RunAsync(params string[] args) => RunAsync(ProcessRunner.DefaultTimeout, args);

    public Task<ProcessResult> RunAsync(TimeSpan timeout, params string[] args) =>
        ProcessRunner.RunAsync("ctr", ["-a", _address, "-n", Namespace, .. args], timeout);

    /// <summary><c>ctr snapshots --snapshotter NAME args...</c>.</summary>
    public Task<ProcessResult> SnapshotsAsync(string snapshotter, params string[] args) =>
        RunAsync(["snapshots", "--snapshotter", snapshotter, .. args]);

    /// <summary>Like <see cref="SnapshotsAsync"/> but throws (with the output) unless ctr exits 0.</summary>
    public async Task<string> SnapshotsOkAsync(string snapshotter, params string[] args) =>
        (await SnapshotsAsync(snapshotter, args).ConfigureAwait(false)).EnsureSuccess().StdOut;
}

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

    /// <summary>
    /// <c>ctr run --rm --snapshotter SNAPSHOTTER REF ID COMMAND...</c>, with the container's stdout and stderr written by the
    /// container itself to files on a bind mount at <c>/dev/ctr-out</c> (inside the container's /dev tmpfs: not in its rootfs,
    /// and not seen by <c>find / -xdev</c>) and read back from the host after ctr exits; ctr's own output is appended.
    /// Why: under load, containerd 1.6's fifo IO lost all, the tail or a middle part of a short-lived container's output while
    /// the command exited 0 (seen in CI on overlay-only containers too); a file written in the container loses nothing.
    /// The image needs <c>/bin/sh</c>; the exit code is the command's (ctr passes it on).
    /// </summary>
    public async Task<ProcessResult> RunContainerAsync(TimeSpan timeout, string snapshotter, string reference, string id, params string[] command)
    {
        if (command.Length == 0)
        {
            throw new ArgumentException("a command is required (the image's default command would not be redirected)", nameof(command));
        }

        var dir = Directory.CreateTempSubdirectory("ctr-out-");
        try
        {
            var result = await RunAsync(timeout,
                ["run", "--rm", "--snapshotter", snapshotter, "--mount", OutputMount(dir.FullName), reference, id, .. Redirected("run", command)]).ConfigureAwait(false);
            return WithOutput(result, dir.FullName, "run");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>The <c>--mount</c> value for <c>ctr run</c> that <see cref="ExecAsync"/> needs: <paramref name="directory"/> at /dev/ctr-out.</summary>
    public static string OutputMount(string directory) => $"type=bind,src={directory},dst=/dev/ctr-out,options=rbind:rw";

    /// <summary>
    /// <c>ctr task exec --exec-id ID CONTAINER COMMAND...</c> with the output written by the container to files in
    /// <paramref name="outputDirectory"/>, which the container was started with (<see cref="OutputMount"/>); same reason as
    /// <see cref="RunContainerAsync"/>.
    /// </summary>
    public async Task<ProcessResult> ExecAsync(string container, string outputDirectory, string execId, params string[] command)
    {
        var result = await RunAsync(["task", "exec", "--exec-id", execId, container, .. Redirected(execId, command)]).ConfigureAwait(false);
        return WithOutput(result, outputDirectory, execId);
    }

    /// <summary><paramref name="command"/> run by /bin/sh with its output in /dev/ctr-out/NAME.stdout and NAME.stderr.</summary>
    private static string[] Redirected(string name, string[] command) =>
        ["/bin/sh", "-c", $"exec \"$@\" > /dev/ctr-out/{name}.stdout 2> /dev/ctr-out/{name}.stderr", "sh", .. command];

    /// <summary><paramref name="result"/> with the output files of <see cref="Redirected"/> in front of ctr's own output.</summary>
    private static ProcessResult WithOutput(ProcessResult result, string directory, string name) => result with
    {
        StdOut = ReadIfExists(Path.Combine(directory, name + ".stdout")) + result.StdOut,
        StdErr = ReadIfExists(Path.Combine(directory, name + ".stderr")) + result.StdErr,
    };

    private static string ReadIfExists(string path) => File.Exists(path) ? File.ReadAllText(path) : "";

    /// <summary><c>ctr snapshots --snapshotter NAME args...</c>.</summary>
    public Task<ProcessResult> SnapshotsAsync(string snapshotter, params string[] args) =>
        RunAsync(["snapshots", "--snapshotter", snapshotter, .. args]);

    /// <summary>Like <see cref="SnapshotsAsync"/> but throws (with the output) unless ctr exits 0.</summary>
    public async Task<string> SnapshotsOkAsync(string snapshotter, params string[] args) =>
        (await SnapshotsAsync(snapshotter, args).ConfigureAwait(false)).EnsureSuccess().StdOut;
}

namespace Snapshotter.KernelTests.Containerd;

/// <summary>What a finished command printed and how it exited.</summary>
internal sealed record CommandResult(string Command, int ExitCode, string StdOut, string StdErr)
{
    /// <summary>Throws with the whole output unless the command exited 0.</summary>
    public CommandResult EnsureSuccess() =>
        ExitCode == 0 ? this : throw new InvalidOperationException($"{this}");

    public override string ToString() => $"`{Command}` exited {ExitCode}\n--- stdout ---\n{StdOut}\n--- stderr ---\n{StdErr}";
}

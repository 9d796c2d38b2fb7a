namespace Snapshotter.IntegrationTests.Fixtures;

/// <summary>What a finished command printed and returned.</summary>
public sealed record ProcessResult(string Command, int ExitCode, string StdOut, string StdErr)
{
    /// <summary>A one-paragraph description for assertion messages.</summary>
    public override string ToString() =>
        $"`{Command}` exited {ExitCode}\n--- stdout ---\n{StdOut}\n--- stderr ---\n{StdErr}";

    /// <summary>Throws with the full output unless the command exited 0.</summary>
    public ProcessResult EnsureSuccess()
    {
        if (ExitCode != 0)
        {
            throw new InvalidOperationException($"command failed: {this}");
        }

        return this;
    }
}

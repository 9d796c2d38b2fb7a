using System.Diagnostics;

namespace Snapshotter.Tests.Hosting;

/// <summary><c>promtool</c> of the Debian package <c>prometheus</c>: checks of metrics text, configs and rule files.</summary>
internal static class Promtool
{
    private const string Binary = "/usr/bin/promtool";

    /// <summary>Runs <c>promtool ARGS</c> with <paramref name="stdin"/> piped in; returns the exit code and everything it printed.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string? stdin, params string[] args)
    {
        if (!File.Exists(Binary))
        {
            throw new FileNotFoundException("required tool promtool is missing; install it (apt-get install -y prometheus)", Binary);
        }

        var start = new ProcessStartInfo(Binary, args)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(cts.Token);
        return (process.ExitCode, (await stdout) + (await stderr));
    }
}

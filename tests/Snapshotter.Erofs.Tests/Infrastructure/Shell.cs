using System.Diagnostics;

namespace Snapshotter.Erofs.Tests.Infrastructure;

/// <summary>Runs real tools (umoci, mkfs.erofs, fsck.erofs, find/stat) and fails loudly.</summary>
internal static class Shell
{
    public static string Run(string file, params string[] args) => RunIn(null, file, args);

    public static string RunIn(string? workingDirectory, string file, params string[] args)
    {
        (int code, string stdout, string stderr) = TryRunIn(workingDirectory, file, args);
        if (code != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {code}: {stderr}{stdout}");
        }

        return stdout;
    }

    public static (int Code, string Stdout, string Stderr) TryRunIn(string? workingDirectory, string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (workingDirectory is not null)
        {
            psi.WorkingDirectory = workingDirectory;
        }

        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using Process p = Process.Start(psi)!;
        Task<string> err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output, err.Result);
    }

    /// <summary>
    /// A canonical description of a directory tree as the kernel reports it: type+mode, owner, size
    /// (not for directories), mtime with nanoseconds, rdev, link count, symlink targets, file contents'
    /// sha256, xattrs, and hard-link groups.
    /// </summary>
    public static string Describe(string root)
    {
        string script = """
            set -e
            command -v getfattr >/dev/null || { echo "getfattr missing: apt-get install attr" >&2; exit 3; }
            cd "$1"
            find . -print0 | LC_ALL=C sort -z | xargs -0 stat -c '%n|%f|%u|%g|%s|%y|%t:%T|%h|%F'
            echo '--- contents'
            find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
            echo '--- links'
            find . -type l -print0 | LC_ALL=C sort -z | xargs -0 -r -n1 readlink -v | cat
            find . -type l -print0 | LC_ALL=C sort -z | xargs -0 -r printf '%s\n'
            echo '--- xattrs'
            find . -print0 | LC_ALL=C sort -z | xargs -0 getfattr -h -d -m - -e hex 2>/dev/null | cat
            echo '--- hardlinks'
            find . -type f -links +1 -printf '%i %p\n' | LC_ALL=C sort -k1,1n -k2 | awk '{ if ($1 != prev) { if (line) print line; line = $2 } else { line = line " " $2 }; prev = $1 } END { if (line) print line }' | LC_ALL=C sort
            """;
        string raw = Run("bash", "-c", script, "describe", root);

        // Directory sizes are filesystem-specific (tmpfs/ext4 vs EROFS); blank them.
        var lines = raw.Split('\n').Select(line =>
        {
            string[] f = line.Split('|');
            if (f.Length == 9 && f[8] == "directory")
            {
                f[4] = "-";
                return string.Join('|', f);
            }

            return line;
        });
        return string.Join('\n', lines);
    }
}

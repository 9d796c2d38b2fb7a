namespace Snapshotter.Registry.Tests.Infrastructure;

/// <summary>Writes a <c>docker-credential-&lt;name&gt;</c> shell script answering <c>get</c> for one server.</summary>
internal static class CredentialHelperScript
{
    public static string Write(string directory, string name, string server, string username, string secret)
    {
        string path = Path.Combine(directory, "docker-credential-" + name);
        File.WriteAllText(path, $$"""
            #!/bin/sh
            [ "$1" = "get" ] || { echo "unsupported" >&2; exit 2; }
            read -r server
            echo "$server" >> "$0.log"
            if [ "$server" = "{{server}}" ]; then
              printf '{"ServerURL":"%s","Username":"{{username}}","Secret":"{{secret}}"}\n' "$server"
              exit 0
            fi
            echo "credentials not found in native keychain"
            exit 1
            """.Replace("\r", "", StringComparison.Ordinal));
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute);
        return path;
    }
}

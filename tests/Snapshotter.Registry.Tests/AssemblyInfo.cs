// The tests run real Linux tools (docker-registry, htpasswd, skopeo, shell credential helpers).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

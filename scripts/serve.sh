#!/usr/bin/env bash
# Builds (Release) and runs the snapshotter daemon on its embedded defaults:
#   root /var/lib/containerd-lazy-snapshotter (SQLite metadata + snapshot dirs),
#   socket /run/containerd-lazy-snapshotter/snapshotter.sock.
# Extra arguments go to `snapshotter serve` (see `--help`). Run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v dotnet >/dev/null || { echo "serve.sh: the .NET 10 SDK (dotnet) is required on PATH" >&2; exit 2; }
out=artifacts/snapshotter
# ReadyToRun (precompiled) so that the daemon does not JIT its READ path while containers start.
dotnet publish src/Snapshotter/Snapshotter.csproj -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true \
  -o "$out" -nologo -clp:ErrorsOnly >&2
exec "$out/snapshotter" serve "$@"

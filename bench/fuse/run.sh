#!/usr/bin/env bash
# FUSE blob files: what FUSE costs (direct vs FUSE vs KEEP_CACHE vs passthrough) and EROFS mounted from FUSE files
# vs from local files. Run as root on the host (drops caches); takes /tmp/bench.lock while measuring.
#   sudo bench/fuse/run.sh [WORKDIR] [--size-mib 256] [--random-reads 2000] [--rounds 3]
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${1:-/var/tmp/fuse-bench}; shift || true
dotnet build bench/fuse/Snapshotter.Fuse.Benchmarks.csproj -c Release -nologo -clp:ErrorsOnly >/dev/null
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), kernel $(uname -r), work dir on $(df --output=fstype "$(dirname "$work")" | tail -1)"
flock /tmp/bench.lock dotnet bench/fuse/bin/Release/net10.0/Snapshotter.Fuse.Benchmarks.dll run "$work" "$@"

#!/usr/bin/env bash
# FUSE-mode benchmark on the host's real kernel (no VM): cold/cached/random reads through `snapshotter mount
# --lazy-mode fuse` vs curl, a 10k-file metadata walk vs squashfuse, daemon RSS, FOPEN_KEEP_CACHE on re-mount, and the
# fuse mode's settings side by side in one process (FuseLevers: directio, async DIO, FUSE readahead/max_pages, fetcher).
# Publishes the daemon as shipped (ReadyToRun), then measures under /tmp/bench.lock. Run as root.
#   sudo bench/run-fuse-lazy.sh [SCRATCH]   (BENCH_ROUNDS=5; BENCH_READS_ONLY=1 skips the metadata walk, keep-cache probe and levers; BENCH_PERF=FILE + BENCH_MOUNT_ENV=DOTNET_PerfMapEnabled=1 profiles one
#   extra cold read with perf record -a -g; BENCH_LEVERS=a,b / BENCH_LEVER_ROUNDS / BENCH_LEVER_CACHED pick the settings compared;
#   BENCH_DIGESTER=blake3 converts the images with blake3 chunk digests instead of sha256, the converter's default)
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=${1:-/var/tmp/fuse-lazy-bench}
dotnet build bench/ondemand/Snapshotter.OnDemand.Benchmarks.csproj -c Release -nologo -clp:ErrorsOnly
dotnet publish src/Snapshotter/Snapshotter.csproj -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true \
  -o artifacts/bench-snapshotter -nologo -clp:ErrorsOnly
mkdir -p "$scratch"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
BENCH_SNAPSHOTTER="$PWD/artifacts/bench-snapshotter/snapshotter.dll" flock /tmp/bench.lock \
  dotnet bench/ondemand/bin/Release/net10.0/Snapshotter.OnDemand.Benchmarks.dll --fuse "$scratch"
echo "commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src bench || echo ' (with uncommitted changes)'), load at the end $(cut -d' ' -f1-3 /proc/loadavg)" >&2

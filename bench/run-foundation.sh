#!/bin/sh
# Foundation benchmark: our snapshotter vs containerd's built-in overlayfs, driven through a real
# containerd 1.6 that the harness starts on temp dirs. Needs root, containerd, ctr, runc.
# Appends the markdown report to bench/RESULTS.md. Extra arguments go to the harness
# (--rounds N --cycles N --stats N --snapshots N).
set -eu
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then echo "run-foundation.sh: needs root (containerd, overlay mounts)" >&2; exit 1; fi
for tool in containerd ctr runc dotnet; do
  command -v "$tool" >/dev/null || { echo "run-foundation.sh: $tool is missing" >&2; exit 1; }
done
dotnet build -c Release bench/Snapshotter.Benchmarks/Snapshotter.Benchmarks.csproj -v quiet -nologo
BENCH_COMMAND="bench/run-foundation.sh${*:+ $*}" \
  dotnet bench/Snapshotter.Benchmarks/bin/Release/net10.0/Snapshotter.Benchmarks.dll --output bench/RESULTS.md "$@"

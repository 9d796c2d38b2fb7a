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
# The service is measured as shipped: published like scripts/serve.sh does (ReadyToRun); --snapshotter-dll FILE
# given after this script's arguments overrides it (e.g. a before/after comparison).
dotnet publish src/Snapshotter/Snapshotter.csproj -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true \
  -o artifacts/foundation-snapshotter -nologo -clp:ErrorsOnly -v quiet
BENCH_COMMAND="bench/run-foundation.sh${*:+ $*}" \
  dotnet bench/Snapshotter.Benchmarks/bin/Release/net10.0/Snapshotter.Benchmarks.dll --output bench/RESULTS.md \
    --snapshotter-dll artifacts/foundation-snapshotter/snapshotter.dll "$@"

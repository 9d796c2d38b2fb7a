#!/usr/bin/env bash
# P1 benchmark: time from the start of a pull to the container's first output line, a lazy image on `snapshotter serve`
# vs the same image as an ordinary OCI image on containerd's overlayfs, registry behind a throttling proxy
# (100 Mbit/s and 1 Gbit/s). Needs root, containerd, ctr, ctr-remote, runc, docker-registry.
#   sudo bench/run-p1.sh [--vm] [--no-output] [HARNESS ARGS...]   (see `--help` of bench/p1; e.g. --rounds 5 --trace)
# Host: the service in `auto` mode (fuse on a kernel without cachefiles on-demand). --vm: inside ../shared/vm/run-in-vm
# (Linux 6.1, cachefiles on-demand: fscache), the image and registry storage prepared on the host first.
# Appends the markdown report to bench/RESULTS.md unless --no-output.
set -euo pipefail
cd "$(dirname "$0")/.."
vm=false; output=(--output bench/RESULTS.md); args=()
for a in "$@"; do
  case "$a" in
    --vm) vm=true;;
    --no-output) output=();;
    *) args+=("$a");;
  esac
done
[ "$(id -u)" = 0 ] || { echo "run-p1.sh: needs root (containerd, mounts, drop_caches)" >&2; exit 1; }
for tool in containerd ctr ctr-remote runc docker-registry dotnet; do
  command -v "$tool" >/dev/null || { echo "run-p1.sh: $tool is missing" >&2; exit 1; }
done
dotnet build bench/p1/Snapshotter.P1.Benchmarks.csproj -c Release -nologo -clp:ErrorsOnly -v quiet
# The service is measured as shipped: published like scripts/serve.sh does (ReadyToRun).
dotnet publish src/Snapshotter/Snapshotter.csproj -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true \
  -o artifacts/p1-snapshotter -nologo -clp:ErrorsOnly -v quiet
# Image generation and registry storage are cached in /var/tmp/p1-cache (made on the host's real CPU).
dotnet bench/p1/bin/Release/net10.0/Snapshotter.P1.Benchmarks.dll --prepare-only
command="bench/run-p1.sh $*"
if ! $vm; then
  BENCH_COMMAND="$command" flock /tmp/bench.lock \
    dotnet bench/p1/bin/Release/net10.0/Snapshotter.P1.Benchmarks.dll --label "host" "${output[@]}" "${args[@]}"
  exit 0
fi
# The guest sees this worktree live: run a private copy of the harness and the service that nobody rebuilds meanwhile.
frozen=artifacts/p1-vm-$(date -u +%Y%m%d%H%M%S)
mkdir -p "$frozen"
cp -a bench/p1/bin/Release/net10.0 "$frozen/harness"
cp -a artifacts/p1-snapshotter "$frozen/snapshotter"
runner=${VM_RUNNER:-${SHARED_DIR:-$(cd .. && pwd)/shared}/vm/run-in-vm}
# The report is written by the guest into a file of the shared worktree, then inserted here.
report="$frozen/report.md"
BENCH_COMMAND="$command" flock /tmp/vm.lock flock /tmp/bench.lock "$runner" --timeout 5400 --disk 8 --mem 3072 -- \
  env BENCH_COMMAND="$command" dotnet "$frozen/harness/Snapshotter.P1.Benchmarks.dll" --label "VM" \
    --snapshotter "$PWD/$frozen/snapshotter/snapshotter.dll" --copy-registry --work /run/scratch/p1-work --state /run/p1 \
    --report "$PWD/$report" "${args[@]}"
if [ ${#output[@]} -gt 0 ]; then
  dotnet bench/p1/bin/Release/net10.0/Snapshotter.P1.Benchmarks.dll --insert-report "$PWD/$report" "${output[@]}"
fi

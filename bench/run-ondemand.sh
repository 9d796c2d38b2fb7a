#!/usr/bin/env bash
# On-demand READ benchmark: builds on the host (Release), runs inside ../shared/vm/run-in-vm, prints a markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build bench/ondemand/Snapshotter.OnDemand.Benchmarks.csproj -c Release -nologo -clp:ErrorsOnly
# The daemon is measured as shipped: published like scripts/serve.sh does (ReadyToRun).
dotnet publish src/Snapshotter/Snapshotter.csproj -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true \
  -o artifacts/bench-snapshotter -nologo -clp:ErrorsOnly
vm=${VM_RUNNER:-${SHARED_DIR:-$(cd .. && pwd)/shared}/vm/run-in-vm}
"$vm" --timeout 3000 --disk 8 -- env BENCH_SNAPSHOTTER="$PWD/artifacts/bench-snapshotter/snapshotter.dll" dotnet bench/ondemand/bin/Release/net10.0/Snapshotter.OnDemand.Benchmarks.dll /run/scratch

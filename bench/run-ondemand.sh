#!/usr/bin/env bash
# On-demand READ benchmark: builds on the host (Release), runs inside ../shared/vm/run-in-vm, prints a markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build bench/ondemand/Snapshotter.OnDemand.Benchmarks.csproj -c Release -nologo -clp:ErrorsOnly
vm=${VM_RUNNER:-${SHARED_DIR:-$(cd .. && pwd)/shared}/vm/run-in-vm}
"$vm" --timeout 3000 --disk 8 -- dotnet bench/ondemand/bin/Release/net10.0/Snapshotter.OnDemand.Benchmarks.dll /run/scratch

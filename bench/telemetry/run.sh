#!/usr/bin/env bash
# READ-path cost of the metrics, exporter off vs on (interleaved rounds), then scrape time with many snapshots and
# lazy images (scrape.sh). Results go to bench/RESULTS.md by hand ("Observability").
#   sudo bench/telemetry/run.sh [CALLS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
dotnet build bench/telemetry/Snapshotter.Telemetry.Benchmarks.csproj -c Release -nologo -clp:ErrorsOnly
dotnet build src/Snapshotter/Snapshotter.csproj -c Release -nologo -clp:ErrorsOnly
flock /tmp/bench.lock dotnet bench/telemetry/bin/Release/net10.0/Snapshotter.Telemetry.Benchmarks.dll "${1:-20000000}" "${2:-5}"
bench/telemetry/scrape.sh

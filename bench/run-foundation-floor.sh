#!/bin/sh
# Issue 9's Stat floor: the foundation benchmark alternating the service as shipped with bench/floor (the smallest
# Grpc.AspNetCore snapshots server: in memory, no interceptors), N pairs. What the floor server gets through
# containerd is what Grpc.AspNetCore and containerd's proxy client cost by themselves. Needs root, containerd, ctr, runc.
#   sudo bench/run-foundation-floor.sh [PAIRS]   (default 3; reports in $OUT, default /tmp/foundation-floor)
set -eu
cd "$(dirname "$0")/.."
pairs=${1:-3}
out=${OUT:-/tmp/foundation-floor}
mkdir -p "$out"
dotnet build -c Release bench/Snapshotter.Benchmarks/Snapshotter.Benchmarks.csproj -v quiet -nologo -clp:ErrorsOnly
for p in src/Snapshotter/Snapshotter.csproj bench/floor/Snapshotter.FloorServer.Benchmarks.csproj; do
  dotnet publish "$p" -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true \
    -o "artifacts/floor-$(basename "$p" .csproj)" -nologo -clp:ErrorsOnly -v quiet
done
i=1
while [ "$i" -le "$pairs" ]; do
  for v in service floor; do
    dll=artifacts/floor-Snapshotter/snapshotter.dll
    [ "$v" = floor ] && dll=artifacts/floor-Snapshotter.FloorServer.Benchmarks/floor-server.dll
    flock /tmp/bench.lock dotnet bench/Snapshotter.Benchmarks/bin/Release/net10.0/Snapshotter.Benchmarks.dll \
      --output "$out/$v-$i.md" --snapshotter-dll "$dll" >"$out/$v-$i.log" 2>&1
    stat=$(grep -E '^\| Stat \| \*\*ratio' "$out/$v-$i.md" | cut -d'|' -f5,8)
    direct=$(grep 'our socket directly' "$out/$v-$i.md" | head -1 | cut -d'|' -f5)
    echo "pair $i $v: Stat p50 / p99 ratio vs built-in$stat; Stat on the socket directly p50$direct ms; load $(cut -d' ' -f1 /proc/loadavg)"
  done
  i=$((i + 1))
done

#!/usr/bin/env bash
# Scrape time of /metrics with 1000 snapshots and 100 lazy images registered (each mounted: one snapshot prepared
# on it), against an idle daemon started beside it; scrapes alternate between the two, one per second.
#   sudo bench/telemetry/scrape.sh [IMAGES] [SNAPSHOTS] [SCRAPES]      (defaults 100 1000 30)
# Needs containerd, ctr-remote (stargz-snapshotter), docker-registry, umoci, busybox-static, curl; builds nothing:
# run `dotnet build src/Snapshotter -c Release` first (the build output is copied, so rebuilding meanwhile is safe).
# Takes /tmp/bench.lock while measuring.
set -euo pipefail
images=${1:-100}; snapshots=${2:-1000}; scrapes=${3:-30}
repo=$(cd "$(dirname "$0")/../.." && pwd)
D=$(mktemp -d /tmp/scrapebench.XXXXXX)
cp -r "$repo/src/Snapshotter/bin/Release/net10.0" "$D/bin"
dll=$D/bin/snapshotter.dll
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 3
  # Our mounts only: everything under the bench directory, deepest first.
  grep " $D" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$D"
}
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# 1. A registry and IMAGES small lazy images: a shared busybox layer plus one layer with a file of its own, so that
#    each has its own bootstrap (and its own lazy mount).
regport=$(port)
mkdir -p "$D/reg"
printf 'version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' "$D/reg/data" "$regport" > "$D/reg/config.yml"
docker-registry serve "$D/reg/config.yml" > "$D/reg.log" 2>&1 & pids+=($!)
L=$D/oci
umoci init --layout "$L"; umoci new --image "$L:base"; umoci unpack --image "$L:base" "$D/base"
mkdir -p "$D/base/rootfs/bin"; cp /bin/busybox "$D/base/rootfs/bin/"; ln -s busybox "$D/base/rootfs/bin/sh"
umoci repack --refresh-bundle --image "$L:base" "$D/base"
for i in $(seq 1 "$images"); do
  umoci unpack --image "$L:base" "$D/b$i"
  head -c 65536 /dev/urandom > "$D/b$i/rootfs/id-$i.bin"
  umoci repack --image "$L:v$i" "$D/b$i"; rm -rf "$D/b$i"
done
echo "scrape.sh: $images images built" >&2
seq 1 "$images" | xargs -P 2 -I{} dotnet "$dll" convert "oci:$L:v{}" "127.0.0.1:$regport/scrape/app{}:lazy" > "$D/convert.log"
echo "scrape.sh: converted" >&2

# 2. The loaded daemon (with containerd) and an idle one, both exporting metrics.
start_serve() { # name port
  echo '{ "metrics_address": "" }' > "$D/$1.json"
  dotnet "$dll" serve --config "$D/$1.json" --root "$D/$1" --address "$D/$1.sock" --lazy-mode fuse --metrics-address "127.0.0.1:$2" > "$D/$1.log" 2>&1 & pids+=($!)
  for _ in $(seq 1 600); do [ -S "$D/$1.sock" ] && curl -sf "http://127.0.0.1:$2/healthz" >/dev/null && return 0; sleep 0.2; done
  echo "scrape.sh: $1 did not start" >&2; cat "$D/$1.log" >&2; exit 1
}
loaded=$(port); idle=$(port)
start_serve loaded "$loaded"; start_serve idle "$idle"
mkdir -p "$D/cd"
cat > "$D/containerd.toml" <<T
version = 2
root = "$D/cd/root"
state = "$D/cd/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$D/cd.sock"
[ttrpc]
  address = "$D/cd.sock.ttrpc"
[debug]
  address = "$D/cd-debug.sock"
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$D/cd/opt"
[proxy_plugins]
  [proxy_plugins.lazy]
    type = "snapshot"
    address = "$D/loaded.sock"
T
containerd --config "$D/containerd.toml" > "$D/containerd.log" 2>&1 & pids+=($!)
for _ in $(seq 1 300); do [ -S "$D/cd.sock" ] && break; sleep 0.2; done
ctr="ctr -a $D/cd.sock -n bench"

# 3. Pull each image lazily and prepare one snapshot on its top layer (mounts the image).
for i in $(seq 1 "$images"); do
  ctr-remote -a "$D/cd.sock" -n bench images rpull --plain-http --snapshotter lazy "127.0.0.1:$regport/scrape/app$i:lazy" > /dev/null
  # The top layer: the committed snapshot that is nobody's parent and not yet used.
  top=$($ctr snapshots --snapshotter lazy ls | awk 'NR>1 {kind[$1]=$3; if ($2!="") parent[$2]=1} END {for (k in kind) if (kind[k]=="Committed" && !(k in parent)) print k}' | head -n1)
  $ctr snapshots --snapshotter lazy prepare "container-$i" "$top" > /dev/null
done
mounted=$(curl -s "http://127.0.0.1:$loaded/metrics" | awk '/^snapshotter_lazy_images_mounted/ {print $NF}')
echo "scrape.sh: $mounted lazy images mounted" >&2

# 4. Plain snapshots up to SNAPSHOTS in total.
have=$($ctr snapshots --snapshotter lazy ls | tail -n +2 | wc -l)
seq 1 $((snapshots - have)) | xargs -P 4 -I{} $ctr snapshots --snapshotter lazy prepare "plain-{}" > /dev/null
total=$($ctr snapshots --snapshotter lazy ls | tail -n +2 | wc -l)
echo "scrape.sh: $total snapshots" >&2

# 5. Scrapes, alternating loaded and idle, one per second (as Prometheus would), under the bench lock.
exec 9>/tmp/bench.lock; flock 9
uptime >&2
for n in $(seq 1 "$scrapes"); do
  for which in loaded idle; do
    p=$([ $which = loaded ] && echo "$loaded" || echo "$idle")
    curl -s -o "$D/$which.txt" -w "$which %{time_total} %{size_download}\n" "http://127.0.0.1:$p/metrics" >> "$D/times"
    sleep 0.5
  done
done
flock -u 9
series() { grep -vc '^#' "$D/$1.txt"; }
echo "| daemon | snapshots | lazy images mounted | series | body bytes | scrape p50 | p90 | max |"
echo "|---|---|---|---|---|---|---|---|"
for which in loaded idle; do
  grep "^$which " "$D/times" | awk '{print $2, $3}' | sort -n | awk -v w=$which -v s="$( [ $which = loaded ] && echo "$total" || echo 0)" -v m="$( [ $which = loaded ] && echo "$mounted" || echo 0)" -v n="$(series $which)" \
    '{t[NR]=$1; b=$2} END {printf "| %s | %s | %s | %s | %s | %.1f ms | %.1f ms | %.1f ms |\n", w, s, m, n, b, t[int(NR*0.5)+1]*1000, t[int(NR*0.9)]*1000, t[NR]*1000}'
done
echo "raw scrape times (ms), loaded: $(grep '^loaded ' "$D/times" | awk '{printf "%.1f ", $2*1000}')"
echo "raw scrape times (ms), idle: $(grep '^idle ' "$D/times" | awk '{printf "%.1f ", $2*1000}')"
echo "image series on the loaded daemon: $(grep -c '^snapshotter_image_fetched_bytes' "$D/loaded.txt") fetched, $(grep -c '^snapshotter_image_read_bytes' "$D/loaded.txt") read"

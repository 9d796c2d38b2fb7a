#!/usr/bin/env bash
# Conversion throughput of a ~1 GiB layer per chunk compressor vs `tar -c | zstd -T1` and
# `tar -c | gzip -1` on the same files in the same run. Data: the first 1 GiB of regular files
# under /usr (real binaries, libraries and text). Every pipeline starts from `tar -c` over the
# same file list, so all of them pay for reading the files and producing the tar stream.
# Usage: bench/erofs/run.sh [work-dir]   (prints a markdown table)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=${1:-$(mktemp -d /tmp/erofs-bench.XXXXXX)}
mkdir -p "$work"
limit=$((1024 * 1024 * 1024))

python3 - "$work/files" "$limit" <<'PY'
import os, sys
out, limit = sys.argv[1], int(sys.argv[2])
total = 0
with open(out, "wb") as f:
    for root, dirs, files in os.walk("/usr"):
        dirs.sort()
        for name in sorted(files):
            p = os.path.join(root, name)
            if os.path.islink(p) or not os.path.isfile(p):
                continue
            size = os.path.getsize(p)
            if total + size > limit:
                continue
            total += size
            f.write(p.encode() + b"\0")
        if total >= limit - (1 << 20):
            break
print(total, file=sys.stderr)
PY

dotnet build "$here/Snapshotter.Erofs.Benchmarks.csproj" -c Release -o "$work/bin" >/dev/null
bench="$work/bin/Snapshotter.Erofs.Benchmarks"
tarc() { tar -c --null -T "$work/files" -f - 2>/dev/null; }

tarc > "$work/layer.tar"               # also warms the page cache
tar_bytes=$(stat -c %s "$work/layer.tar")
rm "$work/layer.tar"

measure() { # name, command -> "name seconds bytes peakrss"
  local name=$1; shift
  local start end
  start=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$work/rss" bash -c "$*"
  end=$(date +%s.%N)
  echo "$name $(echo "$end - $start" | bc) $(cat "$work/rss")"
}

tarc | cat >/dev/null
echo "| pipeline | seconds | MiB/s (tar stream) | output bytes | output / gzip -6 layer | peak RSS |"
echo "|---|---:|---:|---:|---:|---:|"
read -r _ gz6_s gz6_rss < <(measure gzip6 "tar -c --null -T $work/files -f - 2>/dev/null | gzip -6 > $work/orig.tar.gz")
gz6_bytes=$(stat -c %s "$work/orig.tar.gz")
row() { # name seconds bytes rss_kib
  printf '| %s | %.2f | %.0f | %d | %.3f | %d MiB |\n' "$1" "$2" "$(echo "$tar_bytes / 1048576 / $2" | bc -l)" "$3" "$(echo "$3 / $gz6_bytes" | bc -l)" $(( $4 / 1024 ))
}
row "tar -c \\| gzip -6 (original layer)" "$gz6_s" "$gz6_bytes" "$gz6_rss"
read -r _ s rss < <(measure zstd "tar -c --null -T $work/files -f - 2>/dev/null | zstd -T1 -3 -q > $work/out.zst")
zstd_s=$s
row "tar -c \\| zstd -T1 -3" "$s" "$(stat -c %s "$work/out.zst")" "$rss"
read -r _ s rss < <(measure gzip1 "tar -c --null -T $work/files -f - 2>/dev/null | gzip -1 > $work/out.gz")
gzip1_s=$s
row "tar -c \\| gzip -1" "$s" "$(stat -c %s "$work/out.gz")" "$rss"
for c in zstd lz4 gzip none; do
  line=$(tarc | "$bench" "$c" 1048576 "$work/blob.$c")
  read -r _ secs input blob chunks peak boot <<<"$line"
  base=$zstd_s; [ "$c" = gzip ] && base=$gzip1_s
  printf '| convert --compressor %s (%d chunks, bootstrap %d B) | %.2f | %.0f | %d | %.3f | %d MiB |\n' "$c" "$chunks" "$boot" "$secs" "$(echo "$input / 1048576 / $secs" | bc -l)" "$blob" "$(echo "$blob / $gz6_bytes" | bc -l)" $(( peak / 1048576 ))
  printf 'ratio %s vs baseline: %.2fx\n' "$c" "$(echo "$base / $secs" | bc -l)" >&2
  rm -f "$work/blob.$c"
done
echo "tar stream: $tar_bytes bytes; nproc $(nproc); load $(cut -d' ' -f1-3 /proc/loadavg)"

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

rounds=${ROUNDS:-3}
declare -A wall cpu rss out
run() { # name, output file, shell pipeline; appends "wall cpu" per round
  local name=$1 file=$2; shift 2
  /usr/bin/time -f "%e %U %S %M" -o "$work/time" bash -c "$*"
  read -r e u s m < "$work/time"
  wall[$name]+="$e "
  cpu[$name]+="$(echo "$u + $s" | bc) "
  rss[$name]=$m
  out[$name]=$(stat -c %s "$file")
}
median() { tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

tarc | cat >/dev/null
tarcmd="tar -c --null -T $work/files -f - 2>/dev/null"
run "tar -c | gzip -6 (original layer)" "$work/orig.tar.gz" "$tarcmd | gzip -6 > $work/orig.tar.gz"
names=("tar -c | zstd -T1 -3" "convert --compressor zstd" "tar -c | gzip -1" "convert --compressor gzip" "convert --compressor lz4" "convert --compressor none")
for ((r = 0; r < rounds; r++)); do
  run "${names[0]}" "$work/out.zst" "$tarcmd | zstd -T1 -3 -q > $work/out.zst"
  run "${names[1]}" "$work/blob.zstd" "$tarcmd | $bench zstd 1048576 $work/blob.zstd > $work/res.zstd"
  run "${names[2]}" "$work/out.gz" "$tarcmd | gzip -1 > $work/out.gz"
  run "${names[3]}" "$work/blob.gzip" "$tarcmd | $bench gzip 1048576 $work/blob.gzip > $work/res.gzip"
  run "${names[4]}" "$work/blob.lz4" "$tarcmd | $bench lz4 1048576 $work/blob.lz4 > $work/res.lz4"
  run "${names[5]}" "$work/blob.none" "$tarcmd | $bench none 1048576 $work/blob.none > $work/res.none"
done

gz6=${out["tar -c | gzip -6 (original layer)"]}
echo "| pipeline (all start from the same \`tar -c\`) | wall s (median of $rounds) | MiB/s | CPU s (user+sys) | output bytes | output / gzip -6 layer | peak RSS |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for name in "tar -c | gzip -6 (original layer)" "${names[@]}"; do
  w=$(median "${wall[$name]}"); c=$(median "${cpu[$name]}")
  printf '| %s | %.2f | %.0f | %.2f | %d | %.3f | %d MiB |\n' "${name//|/\\|}" "$w" "$(echo "$tar_bytes / 1048576 / $w" | bc -l)" "$c" "${out[$name]}" "$(echo "${out[$name]} / $gz6" | bc -l)" $(( ${rss[$name]} / 1024 ))
done
zw=$(median "${wall[${names[0]}]}"); gw=$(median "${wall[${names[2]}]}")
for pair in "1:$zw" "3:$gw" "4:$zw" "5:$zw"; do
  i=${pair%%:*}; base=${pair#*:}
  printf -- '- %s: %.2fx the throughput of %s\n' "${names[$i]}" "$(echo "$base / $(median "${wall[${names[$i]}]}")" | bc -l)" "$([ "$i" = 3 ] && echo "gzip -1" || echo "zstd -T1")"
done
echo
echo "all wall times: $(for n in "${names[@]}"; do printf '%s: %s; ' "$n" "${wall[$n]}"; done)"
echo "chunks / bootstrap: $(cat "$work/res.zstd")"
echo "tar stream: $tar_bytes bytes; nproc $(nproc); load average at end $(cut -d' ' -f1-3 /proc/loadavg)"

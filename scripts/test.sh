#!/usr/bin/env bash
# Runs every test tier of the project on a Debian 12 machine, as root:
#   unit tests, real-kernel overlay tests, real containerd 1.6 + runc integration tests,
#   real docker-registry tests, EROFS kernel-oracle tests, and the cachefiles on-demand tier
#   inside ../shared/vm/run-in-vm (Linux 6.1 VM; SHARED_DIR overrides where shared/ is).
# Installs what the tests need with apt first. Prints "N passed, N failed, N skipped" last.
# With CI=true a tier that cannot run fails (skips count as failures).
#
#   sudo scripts/test.sh [--filter EXPR] [PROJECT...]   (PROJECT: e.g. Snapshotter.Core.Tests)
set -uo pipefail
cd "$(dirname "$0")/.."

filter=()
projects=()
while [ $# -gt 0 ]; do
  case "$1" in
    --filter) filter=(--filter "$2"); shift 2;;
    -h|--help) sed -n '2,9p' "$0"; exit 0;;
    *) projects+=("$1"); shift;;
  esac
done

if [ "$(id -u)" != 0 ]; then
  echo "test.sh: run as root (the tests mount filesystems and run containerd)" >&2
  exit 2
fi
shared=${SHARED_DIR:-$(cd .. && pwd)/shared}
command -v dotnet >/dev/null || { echo "test.sh: the .NET 10 SDK (dotnet) is required on PATH" >&2; exit 2; }

# Debian packages the tiers use; installed only when missing.
packages=(containerd runc docker-registry umoci skopeo busybox-static erofs-utils apache2-utils
          openssl curl e2fsprogs qemu-system-x86 libzstd1 liblz4-1 iproute2 kmod attr zstd
          stargz-snapshotter prometheus squashfuse squashfs-tools)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "test.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || { echo "test.sh: apt-get install failed" >&2; exit 2; }
fi

echo "test.sh: building"
dotnet build Snapshotter.sln -c Release -nologo -clp:ErrorsOnly -warnaserror || { echo "0 passed, 1 failed"; exit 1; }

if [ ${#projects[@]} -eq 0 ]; then
  # Every test project: fast tiers first, then real containerd, then the VM kernel tier.
  for dir in tests/*/; do
    p=$(basename "$dir")
    case "$p" in Snapshotter.IntegrationTests|Snapshotter.KernelTests) continue;; esac
    [ -f "tests/$p/$p.csproj" ] && projects+=("$p")
  done
  projects+=(Snapshotter.IntegrationTests Snapshotter.KernelTests)
fi

passed=0; failed=0; skipped=0; status=0
log=$(mktemp)
failures=$(mktemp)
for p in "${projects[@]}"; do
  echo "test.sh: === $p ==="
  if [ "$p" = Snapshotter.KernelTests ]; then
    # The on-demand kernel tier runs inside a VM (Linux 6.1 with cachefiles on-demand); the guest sees this
    # filesystem read-only and the repository read-write. Run the built assembly directly: MSBuild is slow there.
    vm=${VM_RUNNER:-$shared/vm/run-in-vm}
    if [ ! -x "$vm" ]; then
      echo "test.sh: $vm not found: the kernel tier cannot run (set VM_RUNNER or put shared/ beside the repo)" >&2
      failed=$((failed + 1)); status=1; continue
    fi
    # The emulated guest can take over vstest's default 90 s to connect its test host when the host is busy.
    "$vm" --timeout 2700 -- env VSTEST_CONNECTION_TIMEOUT=900 dotnet test "tests/$p/bin/Release/net10.0/$p.dll" "${filter[@]}" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
  else
    dotnet test "tests/$p/$p.csproj" -c Release --no-build -nologo "${filter[@]}" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
  fi
  # The names of failed tests are repeated at the end, where a CI log's tail shows them.
  tr -d '\r' < "$log" | grep -E '^\[xUnit\.net [0-9:.]+\] +.*\[FAIL\]$' | sed -E "s/^\[xUnit\.net [0-9:.]+\] +/  $p: /" >> "$failures"
  line=$(grep -E '^(Passed|Failed)! +- +Failed: ' "$log" | tail -n 1)
  if [ -z "$line" ]; then
    echo "test.sh: $p produced no test summary (exit $rc)" >&2
    failed=$((failed + 1)); status=1; continue
  fi
  f=$(sed -E 's/.*Failed: +([0-9]+).*/\1/' <<<"$line")
  ps=$(sed -E 's/.*Passed: +([0-9]+).*/\1/' <<<"$line")
  s=$(sed -E 's/.*Skipped: +([0-9]+).*/\1/' <<<"$line")
  passed=$((passed + ps)); failed=$((failed + f)); skipped=$((skipped + s))
  [ "$rc" -ne 0 ] && status=1
done
rm -f "$log"
if [ -s "$failures" ]; then
  echo "test.sh: failed tests:"
  cat "$failures"
fi
rm -f "$failures"

if [ "${CI:-}" = "true" ] && [ "$skipped" -gt 0 ]; then
  echo "test.sh: $skipped test(s) skipped; in CI every tier must run" >&2
  status=1
fi
[ "$failed" -gt 0 ] && status=1
echo "$passed passed, $failed failed, $skipped skipped"
exit $status

#!/usr/bin/env bash
# sim-rate: how many events per second fake-cloudron serves over loopback, and how long it takes
# to build its data. Release build; not a test (CI never times anything).
#
#   bash Benchmarks/sim-rate/run.sh                 # 1,000,000 events, 300 pages of 1,000
#   EVENTS=200000 PAGES=100 PER_PAGE=500 bash Benchmarks/sim-rate/run.sh
#
# The client is curl (one process, one connection per page, as the simulator answers
# `Connection: close`), piped through a small counter of the rows that really arrived.
set -euo pipefail
cd "$(dirname "$0")/../.."

EVENTS=${EVENTS:-1000000}
PER_PAGE=${PER_PAGE:-1000}
PAGES=${PAGES:-300}
SCRATCH=${SCRATCH:-.build-sim}

swift build -c release --scratch-path "$SCRATCH" --product fake-cloudron >/dev/null
BIN="$SCRATCH/release/fake-cloudron"

banner=$(mktemp)
t0=$(date +%s.%N)
"$BIN" --events "$EVENTS" >"$banner" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -f "$banner"' EXIT
for _ in $(seq 1 600); do
  grep -q '^readonly-token:' "$banner" && break
  sleep 0.1
done
t1=$(date +%s.%N)
url=$(sed -n 's/^url: //p' "$banner")
token=$(sed -n 's/^admin-token: //p' "$banner")
[ -n "$url" ] || { echo "fake-cloudron did not start" >&2; exit 1; }

urls=()
for page in $(seq 1 "$PAGES"); do
  urls+=("$url/api/v1/eventlog?page=$page&per_page=$PER_PAGE&access_token=$token")
done

t2=$(date +%s.%N)
rows=$(curl -sS --fail "${urls[@]}" | python3 -c '
import sys
needle, carry, count = b"\"action\":\"", b"", 0
while chunk := sys.stdin.buffer.read(1 << 20):
    data = carry + chunk
    count += data.count(needle)
    carry = data[-(len(needle) - 1):]
print(count)')
t3=$(date +%s.%N)

python3 - "$EVENTS" "$t0" "$t1" "$t2" "$t3" "$rows" "$PAGES" "$PER_PAGE" <<'PY'
import sys
events, t0, t1, t2, t3, rows, pages, per_page = sys.argv[1:]
build, serve = float(t1) - float(t0), float(t3) - float(t2)
print(f"built {int(events):,} events in {build:.2f} s (process start included)")
print(f"served {int(rows):,} events in {int(pages)} pages of {int(per_page)} in {serve:.2f} s: "
      f"{int(rows) / serve:,.0f} events/s, {int(pages) / serve:,.1f} pages/s")
PY

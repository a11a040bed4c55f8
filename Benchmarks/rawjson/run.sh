#!/bin/sh
# Builds the RawJSON micro-benchmark with `swiftc -O` from the Client sources of the working tree and runs
# it on a 5,000-event page and the task list that fake-cloudron serves. Needs a debug build of
# fake-cloudron (`swift build`). To compare another version, point SOURCES at its Client sources:
#   git archive REV Sources/Client | tar -x -C /tmp/rev && SOURCES=/tmp/rev/Sources/Client Benchmarks/rawjson/run.sh
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
sources=${SOURCES:-$root/Sources/Client}
work=$root/.build-bench/rawjson
mkdir -p "$work"
"$root/.build/debug/fake-cloudron" --events 5000 >"$work/sim.out" &
sim=$!
trap 'kill $sim 2>/dev/null' EXIT
while ! grep -q admin-token "$work/sim.out"; do sleep 0.2; done
url=$(awk '/url:/ {print $2}' "$work/sim.out")
token=$(awk '/admin-token:/ {print $2}' "$work/sim.out")
curl -sf -H "Authorization: Bearer $token" "$url/api/v1/eventlog?page=1&per_page=5000" -o "$work/events.json"
curl -sf -H "Authorization: Bearer $token" "$url/api/v1/tasks?page=1&per_page=1000" -o "$work/tasks.json"
nice swiftc -O -wmo "$sources/RawJSON.swift" "$sources/ModelDecoding.swift" "$sources/Models.swift" \
  "$sources/CivilTime.swift" "$root/Benchmarks/rawjson/main.swift" -o "$work/rawjson-bench"
"$work/rawjson-bench" "$work/events.json" "$work/tasks.json"

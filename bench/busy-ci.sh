#!/usr/bin/env bash
# Issue 20's busy-machine check: a fresh clone's .ci/run, N times in a row, with K CPU-bound `yes` processes beside it
# (K=0: quiet). Prints each run's wall time, vitest's last line and its failed tests; keeps every run's whole log in a
# printed /tmp folder. Usage: bench/busy-ci.sh [runs=3] [busy=4] [repo=.]
set -uo pipefail
runs=${1:-3}
busy=${2:-4}
repo=$(cd "${3:-.}" && pwd)
logs=$(mktemp -d /tmp/busy-ci-logs.XXXXXX)
echo "logs: $logs"
hogs=()
for _ in $(seq 1 "$busy"); do
  yes >/dev/null &
  hogs+=($!)
done
trap 'kill "${hogs[@]}" 2>/dev/null' EXIT
for i in $(seq 1 "$runs"); do
  dir=$(mktemp -d /tmp/busy-ci.XXXXXX)
  # mktemp makes it 0700; contain.test runs a server as `nobody`, which must reach the clone (as in a CI checkout).
  chmod 755 "$dir"
  git clone -q "$repo" "$dir/clone"
  start=$(date +%s)
  log="$logs/run-$i.log"
  (cd "$dir/clone" && CI=true bash .ci/run >"$log" 2>&1)
  echo "run $i (busy=$busy): $(($(date +%s) - start)) s: $(tail -1 "$log")"
  grep -E '^ +(×|FAIL) ' "$log" | sort -u | head -20
  rm -rf "$dir"
done

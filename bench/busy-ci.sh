#!/usr/bin/env bash
# Issue 20's busy-machine check: a fresh clone's .ci/run, N times in a row, with K CPU-bound `yes` processes beside it
# (K=0: quiet). Prints each run's wall time and vitest's last line. Usage: bench/busy-ci.sh [runs=3] [busy=4] [repo=.]
set -uo pipefail
runs=${1:-3}
busy=${2:-4}
repo=$(cd "${3:-.}" && pwd)
hogs=()
for _ in $(seq 1 "$busy"); do
  yes >/dev/null &
  hogs+=($!)
done
trap 'kill "${hogs[@]}" 2>/dev/null' EXIT
for i in $(seq 1 "$runs"); do
  dir=$(mktemp -d /tmp/busy-ci.XXXXXX)
  git clone -q "$repo" "$dir/clone"
  start=$(date +%s)
  last=$(cd "$dir/clone" && CI=true bash .ci/run 2>&1 | tail -1)
  echo "run $i (busy=$busy): $(($(date +%s) - start)) s: $last"
  rm -rf "$dir"
done

#!/bin/bash
# How a fresh NFS host warms up: starts `berth mount nfs local --read-only` on TREE (its
# tree/ made first if missing: 10 folders of 1,000 small files, as in the nfs table),
# lists it once with `nfs-ls -R` (the cold listing: lstats and watches), then N more
# times, and prints each listing's wall time, the host's main-thread CPU (from
# /proc/PID/task/PID/schedstat) and the whole process's CPU over the N. NODE_FLAGS go
# to the host's Node, e.g. NODE_FLAGS=--interrupt-budget=135168 for V8's default budget
# (bench/RESULTS.md, "Warm-up"). Needs libnfs-utils; run `npm run build:cli` first.
#   usage: TREE=/tmp/bd bench/warmup.sh [N=12]
set -euo pipefail
N=${1:-12}
: "${TREE:?set TREE to a folder for the tree (made if missing)}"
if [ ! -d "$TREE/tree" ]; then
  for d in $(seq 0 9); do
    mkdir -p "$TREE/tree/d0$d"
    for f in $(seq -w 0 999); do echo "file $d$f" >"$TREE/tree/d0$d/f$d$f.txt"; done
  done
fi
cd "$(dirname "$0")/.."
out=$(mktemp)
# shellcheck disable=SC2086
node ${NODE_FLAGS:-} src-main/cli/berth.cjs mount nfs local --path "$TREE" --read-only --foreground /ip4/127.0.0.1/tcp/0 >"$out" 2>&1 &
host=$!
trap 'kill -INT $host 2>/dev/null; wait $host 2>/dev/null; rm -f "$out"' EXIT
for _ in $(seq 100); do grep -q 'press Ctrl-C' "$out" && break; sleep 0.1; done
port=$(grep -o 'port: [0-9]*' "$out" | head -1 | cut -d' ' -f2)
url="nfs://127.0.0.1/tree?version=3&nfsport=$port&mountport=$port"
main_ns() { awk '{print $1}' "/proc/$host/task/$host/schedstat"; }
all_ms() { awk '{print ($14 + $15) * 10}' "/proc/$host/stat"; }
nfs-ls -R "$url" >/dev/null
a0=$(all_ms)
wall="" cpu="" sum_wall=0 sum_cpu=0
for _ in $(seq "$N"); do
  c0=$(main_ns) t0=$(date +%s%N)
  nfs-ls -R "$url" >/dev/null
  t1=$(date +%s%N) c1=$(main_ns)
  w=$(((t1 - t0) / 1000000)) c=$(((c1 - c0) / 1000000))
  wall="$wall $w" cpu="$cpu $c" sum_wall=$((sum_wall + w)) sum_cpu=$((sum_cpu + c))
done
echo "flags [${NODE_FLAGS:-}] wall ms:$wall (mean $((sum_wall / N))) | host main-thread CPU ms:$cpu (mean $((sum_cpu / N))) | host CPU, all threads: $(($(all_ms) - a0)) ms"

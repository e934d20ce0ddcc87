#!/usr/bin/env bash
# The cost of distributing an offline analysis through Redis on one machine:
# the same video analysed locally (`vigil analyze --workers W`) and by one
# `vigil worker --workers W` through a redis-server started here (temp dir,
# AOF on), with the wall times, the Redis commands per chunk (INFO
# commandstats, counted from CONFIG RESETSTAT before the distributed run,
# idle polling included) and the bytes per stored chunk result. Also checks
# that the two runs wrote the same results.json, events.jsonl, timeline.csv.
# Usage: [ORDER='dist local'] bench/cluster_overhead.sh VIDEO [CHUNK_S=60] [SAMPLE_FPS=1] [WORKERS=2]   (from the repo root, after make build)
set -euo pipefail
video=${1:?usage: cluster_overhead.sh VIDEO [CHUNK_S] [SAMPLE_FPS] [WORKERS]}
chunk=${2:-60}
fps=${3:-1}
workers=${4:-2}
vigil=${VIGIL:-build/vigil}
tmp=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cleanup() {
  [ -n "${wpid:-}" ] && kill "$wpid" 2>/dev/null && wait "$wpid" 2>/dev/null || true
  redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
opts=(--sample-fps "$fps" --chunk "$chunk" --progress none)

run_local() {
  t0=$(date +%s.%N)
  "$vigil" analyze "$video" "${opts[@]}" --workers "$workers" -o "$tmp/local" >/dev/null
  t1=$(date +%s.%N)
}

redis-server --port "$port" --bind 127.0.0.1 --dir "$tmp" --save '' --appendonly yes --daemonize yes \
  --logfile "$tmp/redis.log" >/dev/null
until redis-cli -p "$port" ping >/dev/null 2>&1; do sleep 0.1; done
url="redis://127.0.0.1:$port/0"
"$vigil" worker --redis "$url" --workers "$workers" --name bench 2>"$tmp/worker.log" &
wpid=$!
until grep -q "chunk threads" "$tmp/worker.log"; do sleep 0.1; done  # model loaded, group joined
run_dist() {
  redis-cli -p "$port" config resetstat >/dev/null
  t2=$(date +%s.%N)
  "$vigil" analyze "$video" "${opts[@]}" --redis "$url" -o "$tmp/dist" >/dev/null
  t3=$(date +%s.%N)
  stats=$(redis-cli -p "$port" info commandstats)
}
# ORDER="dist local" runs the distributed one first (alternate on a busy machine).
for run in ${ORDER:-local dist}; do "run_$run"; done

for f in results.json events.jsonl timeline.csv; do
  cmp -s "$tmp/local/$f" "$tmp/dist/$f" || { echo "DIFFERENT: $f"; exit 1; }
done
chunks=$(python3 -c "import json; print(json.load(open('$tmp/local/results.json'))['summary']['chunks'])")
bytes=$(python3 -c "
import sqlite3; c = sqlite3.connect('$tmp/local/job.db')
print(int(c.execute('select avg(length(result)) from chunks where result is not null').fetchone()[0]))")
echo "video: $video  chunk ${chunk}s  sample-fps $fps  workers $workers  chunks $chunks"
awk -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" 'BEGIN { l = b - a; r = d - c;
  printf "local %.1f s, distributed (1 worker) %.1f s: %+.1f%%\n", l, r, (r / l - 1) * 100 }'
echo "$stats" | tr -d '\r' | awk -F'[:=,]' -v n="$chunks" '/^cmdstat_/ { sub("cmdstat_", "", $1); t += $3;
  printf "  %-12s %6d calls (%.1f per chunk)\n", $1, $3, $3 / n } END { printf "  all          %6d calls (%.1f per chunk)\n", t, t / n }'
echo "chunk result: $bytes bytes on average (the text the job store keeps; sent once to Redis, read once)"
echo "outputs: results.json, events.jsonl, timeline.csv identical"

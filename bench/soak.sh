#!/usr/bin/env bash
# Soak benchmark (issue 10; a benchmark, not a test): does the live server's
# memory or fd count grow under a steady mixed load?
# Load, all on 127.0.0.1, for SOAK_MINUTES:
#   - `vigil run` with 4 looping streams of a vtest.avi-based H.264 file (768x576, 10 fps, every: 4)
#   - 10 MJPEG viewers (curl, fps=5), reconnecting if a response ends
#   - WebSocket churn: node's built-in WebSocket opens /ws/streams/{id} (video)
#     and /ws/events sockets, keeps each 1-4 s, closes it, again and again
#   - API churn: POST / PATCH / DELETE a fifth stream, GET stats, streams, metrics, in a loop
# Every SAMPLE_S seconds: VmRSS (/proc/PID/status), open fds (/proc/PID/fd)
# and threads into OUT/soak.csv. At the end: start, after warm-up and end
# figures, RSS growth per 10 minutes after warm-up (least-squares slope; goal
# < 2 MB / 10 min) and the fds after warm-up (goal: flat: the medians of the
# first and last third of the samples within 2).
# Usage: bench/soak.sh          Env: SOAK_MINUTES (30), WARMUP_MINUTES
# (5, at most a third of the run), SAMPLE_S (30), VIGIL (build/vigil), OUT (build/soak).
# Stops by itself; every process it started is stopped on exit (also on Ctrl-C).
set -euo pipefail
cd "$(dirname "$0")/.."
VIGIL=${VIGIL:-build/vigil}
OUT=${OUT:-build/soak}
SOAK_MINUTES=${SOAK_MINUTES:-30}
SAMPLE_S=${SAMPLE_S:-30}
WARMUP_MINUTES=${WARMUP_MINUTES:-5}
WARMUP_MINUTES=$(python3 -c "print(min(float('$WARMUP_MINUTES'), float('$SOAK_MINUTES') / 3))")
[ -x "$VIGIL" ] || { echo "soak: $VIGIL is missing (make build)" >&2; exit 2; }
command -v node >/dev/null || { echo "soak: node is missing (scripts/setup.sh installs it)" >&2; exit 2; }
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

video=$OUT/soak.mp4
if [ ! -s "$video" ]; then
  ffmpeg -nostdin -hide_banner -loglevel error -y -i /usr/share/doc/opencv-doc/examples/data/vtest.avi -t 30 \
    -c:v libx264 -preset veryfast -pix_fmt yuv420p -g 20 -movflags +faststart "$OUT/soak.tmp.mp4"
  mv "$OUT/soak.tmp.mp4" "$video"
fi
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
cfg=$OUT/soak.yaml
cat > "$cfg" <<EOF
stats_interval_s: 0
defaults: {every: 4, loop: true}
streams:
  - {id: s1, url: $video}
  - {id: s2, url: $video}
  - {id: s3, url: $video}
  - {id: s4, url: $video}
EOF

total_s=$(python3 -c "print(int(float('$SOAK_MINUTES') * 60))")
start=$(date +%s)
deadline=$((start + total_s))
# The load goes on 30 s past the last sample, so the last sample sees it too.
load_end=$((deadline + 30))
pids=()
vigil_pid=
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ -n "$vigil_pid" ] && kill -0 "$vigil_pid" 2>/dev/null; then
    kill -INT "$vigil_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$vigil_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$vigil_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --duration: the server stops by itself even if this script is killed hard.
VIGIL_LOG=warn "$VIGIL" run -c "$cfg" --listen "127.0.0.1:$port" --media-dir "$OUT" \
  --duration $((total_s + 120)) 2>"$OUT/vigil.log" &
vigil_pid=$!
for _ in $(seq 1 300); do
  curl -sf -o /dev/null "$base/healthz" && break
  kill -0 "$vigil_pid" 2>/dev/null || { echo "soak: vigil exited; see $OUT/vigil.log" >&2; exit 1; }
  sleep 0.2
done
curl -sf -o /dev/null "$base/healthz" || { echo "soak: no answer on $base/healthz" >&2; exit 1; }
echo "soak: vigil pid $vigil_pid on $base for $SOAK_MINUTES min (warm-up $WARMUP_MINUTES min), samples every ${SAMPLE_S}s -> $OUT/soak.csv"

left() { echo $((load_end - $(date +%s))); }

# 10 MJPEG viewers, each on one stream, reconnecting until the deadline.
for i in $(seq 0 9); do
  (
    n=0 c=
    trap '[ -n "$c" ] && kill "$c" 2>/dev/null; exit 0' TERM
    while [ "$(left)" -gt 1 ]; do
      curl -s -o /dev/null --max-time "$(left)" "$base/api/streams/s$((i % 4 + 1))/mjpeg?fps=5&quality=60" &
      c=$!
      wait "$c" || true
      n=$((n + 1))
      sleep 1
    done
    echo "$n" > "$OUT/mjpeg_$i.count"
  ) &
  pids+=($!)
done

# WebSocket churn: 4 clients at a time, each socket open 1-4 s.
cat > "$OUT/ws_churn.mjs" <<'EOF'
const [base, deadline] = [process.argv[2], Number(process.argv[3]) * 1000];
let opened = 0, messages = 0, errors = 0;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function client(k) {
  while (Date.now() < deadline - 5000) {
    const path = k === 0 ? '/ws/events' : `/ws/streams/s${k}?video=1&fps=5`;
    await new Promise((resolve) => {
      const ws = new WebSocket(base + path);
      let done = false;
      const finish = () => { if (!done) { done = true; resolve(); } };
      ws.onopen = () => { opened++; setTimeout(() => ws.close(), 1000 + Math.random() * 3000); };
      ws.onmessage = () => { messages++; };
      ws.onerror = () => { errors++; finish(); };
      ws.onclose = finish;
      setTimeout(() => { try { ws.close(); } catch (e) {} finish(); }, 10000);
    });
    await sleep(200);
  }
}
await Promise.all([0, 1, 2, 3].map(client));
console.log(JSON.stringify({opened, messages, errors}));
process.exit(0);
EOF
node --experimental-websocket --no-warnings "$OUT/ws_churn.mjs" "ws://127.0.0.1:$port" "$load_end" > "$OUT/ws_churn.json" 2>"$OUT/ws_churn.log" &
pids+=($!)

# API churn: add, change and remove a fifth stream; read stats, streams, metrics.
(
  cycles=0 bad=0
  call() {  # call EXPECTED_CODE METHOD PATH [BODY]
    local code
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X "$2" -H 'Content-Type: application/json' \
      ${4:+--data "$4"} "$base$3" || true)
    [ "$code" = "$1" ] || bad=$((bad + 1))
  }
  while [ "$(left)" -gt 10 ]; do
    call 201 POST /api/streams '{"id": "churn", "url": "soak.mp4", "loop": true, "every": 8}'
    sleep 2
    call 200 PATCH /api/streams/churn '{"every": 6, "gate": {"enabled": true}}'
    sleep 2
    for _ in 1 2 3; do
      call 200 GET /api/stats
      call 200 GET /api/streams
      call 200 GET /metrics
      sleep 0.3
    done
    call 200 DELETE /api/streams/churn
    sleep 1
    cycles=$((cycles + 1))
  done
  echo "$cycles $bad" > "$OUT/api_churn.count"
) &
pids+=($!)

# Samples until the deadline.
csv=$OUT/soak.csv
echo "t_s,rss_kb,fds,threads" > "$csv"
sample() {
  local t rss fds thr
  t=$(($(date +%s) - start))
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$vigil_pid/status")
  thr=$(awk '/^Threads:/ {print $2}' "/proc/$vigil_pid/status")
  fds=$(find "/proc/$vigil_pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
  echo "$t,$rss,$fds,$thr" >> "$csv"
  echo "soak: t=${t}s rss=$((rss / 1024)) MiB fds=$fds threads=$thr"
}
while :; do
  kill -0 "$vigil_pid" 2>/dev/null || { echo "soak: vigil exited early; see $OUT/vigil.log" >&2; exit 1; }
  sample
  now=$(date +%s)
  [ "$now" -ge "$deadline" ] && break
  next=$((now + SAMPLE_S))
  [ "$next" -gt "$deadline" ] && next=$deadline
  sleep $((next - now))
done

# The load generators end by themselves at load_end; wait for their counts.
for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
pids=()
mjpeg=$(cat "$OUT"/mjpeg_*.count 2>/dev/null | awk '{s += $1} END {print s + 0}')
read -r api_cycles api_bad < "$OUT/api_churn.count" || { api_cycles=0; api_bad=0; }
ws=$(cat "$OUT/ws_churn.json" 2>/dev/null || echo '{}')
python3 - "$csv" "$WARMUP_MINUTES" "$SOAK_MINUTES" "$mjpeg" "$api_cycles" "$api_bad" "$ws" <<'PY' | tee "$OUT/soak_summary.txt"
import csv, json, sys
rows = [{k: int(v) for k, v in r.items()} for r in csv.DictReader(open(sys.argv[1]))]
warm_s = float(sys.argv[2]) * 60
after = [r for r in rows if r["t_s"] >= warm_s] or rows[-1:]
w, end, first = after[0], rows[-1], rows[0]
mb = lambda kb: kb / 1024
if len(after) >= 2:
    n = len(after)
    mt = sum(r["t_s"] for r in after) / n
    mr = sum(r["rss_kb"] for r in after) / n
    slope = sum((r["t_s"] - mt) * (r["rss_kb"] - mr) for r in after) / max(1e-9, sum((r["t_s"] - mt) ** 2 for r in after))
    per10 = mb(slope) * 600
else:
    per10 = float("nan")
fds = [r["fds"] for r in after]
ws = json.loads(sys.argv[7])
print(f"soak: {sys.argv[3]} min, {len(rows)} samples; load: MJPEG viewer connections {sys.argv[4]}, "
      f"WebSocket sessions {ws.get('opened', '?')} ({ws.get('errors', '?')} errors), "
      f"API cycles {sys.argv[5]} ({sys.argv[6]} unexpected answers)")
print(f"{'':>12} {'t_s':>6} {'rss_mb':>8} {'fds':>5} {'threads':>7}")
for name, r in (("start", first), ("after warm-up", w), ("end", end)):
    print(f"{name:>12} {r['t_s']:>6} {mb(r['rss_kb']):>8.1f} {r['fds']:>5} {r['threads']:>7}")
print(f"RSS growth after warm-up: {per10:+.2f} MB / 10 min (least squares over {len(after)} samples; "
      f"end - warm-up: {mb(end['rss_kb'] - w['rss_kb']):+.1f} MB in {(end['t_s'] - w['t_s']) / 60:.1f} min); goal < 2")
# Connections come and go, so single samples jitter: compare the medians of
# the first and the last third after warm-up.
third = max(1, len(fds) // 3)
med = lambda xs: sorted(xs)[len(xs) // 2]
fd_drift = med(fds[-third:]) - med(fds[:third])
print(f"fds after warm-up: {min(fds)}..{max(fds)}, median first third {med(fds[:third])}, last third "
      f"{med(fds[-third:])} ({'flat' if abs(fd_drift) <= 2 else 'NOT flat'})")
PY

#!/usr/bin/env bash
# How many 720p25 H.264 streams run in real time on this machine with the
# default model at every: 4 with tracking (issue: live engine, performance).
# For each stream count N it runs `vigil run` for DURATION seconds on N looping
# copies of vtest.avi upscaled to 1280x720 at 25 fps, then reads --stats:
#   real time = every stream's display fps >= 90% of 25 and analysis latency
#   p95 < 500 ms; memory is reported as RSS / N (the goal: <= 60 MB);
#   coverage = analysed frames / the every-4 demand (the rest are dropped,
#   latest wins).
# After the table: per-stage milliseconds (avg/p95 over the last 2048 calls of
# each stage, from the stats JSON; preprocess, inference and postprocess per
# batch, the rest per frame), the mean batch, and the threads the CPU budget
# chose (docs/architecture.md, "CPU budget").
# Usage: bench/streams.sh [N...]      (default: 2 4 6 8 10)
# Env: DURATION (default 40), VIGIL (default build/vigil), OUT (default build/bench),
#      THREADS (model.threads, default 0 = auto), WORKERS (default 1),
#      VIGIL_CPU_BUDGET=off (passed on: the thread defaults before the CPU budget),
#      DEFAULTS (extra `defaults:` entries, e.g. "motion: {enabled: true}"),
#      VIDEO (another source instead of the upscaled vtest, e.g. a quiet scene)
set -euo pipefail
cd "$(dirname "$0")/.."
VIGIL=${VIGIL:-build/vigil}
OUT=${OUT:-build/bench}
DURATION=${DURATION:-40}
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(2 4 6 8 10)
mkdir -p "$OUT"
video=${VIDEO:-$OUT/vtest720p25.mp4}
if [ -z "${VIDEO:-}" ] && [ ! -s "$video" ]; then
  ffmpeg -nostdin -hide_banner -loglevel error -y -stream_loop 1 -i /usr/share/doc/opencv-doc/examples/data/vtest.avi \
    -vf "scale=1280:720,fps=25" -t 120 -c:v libx264 -preset veryfast -g 50 -pix_fmt yuv420p "$video"
fi
printf '%-8s %-9s %-13s %-9s %-12s %-8s %-11s %-11s %s\n' streams min_fps analysed_fps coverage latency_p95 rss_mb rss/stream bottleneck verdict
for n in "${counts[@]}"; do
  cfg=$OUT/streams_$n.yaml
  {
    echo "adaptive: false"
    echo "model: {threads: ${THREADS:-0}}"
    echo "workers: ${WORKERS:-1}"
    echo "stats_interval_s: 0"
    echo "defaults: {every: 4, loop: true${DEFAULTS:+, $DEFAULTS}}"
    echo "streams:"
    for i in $(seq 1 "$n"); do echo "  - {id: s$i, url: $video}"; done
  } > "$cfg"
  VIGIL_LOG=warn "$VIGIL" run --no-server -c "$cfg" --duration "$DURATION" --stats "$OUT/streams_$n.json" 2>"$OUT/streams_$n.log"
  python3 - "$OUT/streams_$n.json" "$n" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); n = int(sys.argv[2])
fps = [x["display_fps"] for x in s["streams"]]
ana = sum(x["analysed_fps"] for x in s["streams"]) / n
p95 = s["analysis_latency"]["p95_ms"]; rss = s["ram_mb"]
ok = min(fps) >= 0.9 * 25 and p95 < 500
cov = 100 * ana / (25 / 4)  # analysed share of the every-4 demand; the rest is dropped (latest wins)
print(f"{n:<8} {min(fps):<9.1f} {ana:<13.2f} {cov:<8.0f}% {p95:<12.1f} {rss:<8.1f} {rss/n:<11.1f} {s['bottleneck']:<11} {'real-time' if ok else 'NOT real-time'}")
PY
done
echo
echo "per-stage ms (avg/p95); batch = mean images per inference call; budget = cores, inference workers x threads, decoder threads"
python3 - "$OUT" "${counts[@]}" <<'PY'
import json, sys
out, counts = sys.argv[1], sys.argv[2:]
stages = ["decode", "convert", "gate", "preprocess", "inference", "postprocess", "track", "analytics"]
print(f"{'streams':<8} " + " ".join(f"{st:<13}" for st in stages) + f" {'batch':<6} budget")
for n in counts:
    s = json.load(open(f"{out}/streams_{n}.json"))
    cells = []
    for st in stages:
        x = s["stages"].get(st, {})
        cells.append(f"{x.get('avg_ms', 0):.1f}/{x.get('p95_ms', 0):.1f}" if x.get("count", 0) else "-")
    b = s.get("cpu_budget", {})
    budget = (f"{b.get('cores')}c {b.get('workers')}x{b.get('inference_threads') or 'ort'} dec{b.get('decode_threads')}"
              + ("" if b.get("enabled", True) else " (off)")) if b else "-"
    print(f"{n:<8} " + " ".join(f"{c:<13}" for c in cells) + f" {s.get('batch_size_avg', 0):<6.2f} {budget}")
PY

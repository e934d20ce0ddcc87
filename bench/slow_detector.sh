#!/usr/bin/env bash
# Video never waits for analysis: two looping 10 fps streams (vtest20.mp4, the
# test video) analysed at every frame by a detector slowed to >= 300 ms per
# batch (VIGIL_TEST_INFERENCE_DELAY_MS). Prints each stream's display fps
# (should stay at the source's 10), analysed fps and the analyses replaced
# (latest wins). This timing claim used to be asserted by
# tests/integration/engine_test.cc (EngineLive.SlowDetectorDropsAnalysisNotFrames).
# Usage: bench/slow_detector.sh    Env: DURATION (default 10), DELAY_MS (default 300),
#        VIGIL (default build/vigil), VIDEO (default build/test_videos/vtest20.mp4), OUT (default build/bench)
set -euo pipefail
cd "$(dirname "$0")/.."
VIGIL=${VIGIL:-build/vigil}
VIDEO=${VIDEO:-build/test_videos/vtest20.mp4}
OUT=${OUT:-build/bench}
DURATION=${DURATION:-10}
DELAY_MS=${DELAY_MS:-300}
mkdir -p "$OUT"
cfg=$OUT/slow_detector.yaml
{
  echo "adaptive: false"
  echo "stats_interval_s: 0"
  echo "defaults: {every: 1, loop: true}"
  echo "streams:"
  echo "  - {id: live1, url: $VIDEO}"
  echo "  - {id: live2, url: $VIDEO}"
} > "$cfg"
VIGIL_LOG=warn VIGIL_TEST_INFERENCE_DELAY_MS=$DELAY_MS "$VIGIL" run --no-server -c "$cfg" --duration "$DURATION" \
  --stats "$OUT/slow_detector.json" 2>"$OUT/slow_detector.log"
python3 - "$OUT/slow_detector.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
print("%-7s %-12s %-13s %-18s %s" % ("stream", "display_fps", "analysed_fps", "analysis_replaced", "frames"))
for x in s["streams"]:
    print("%-7s %-12.2f %-13.2f %-18d %d" % (x["id"], x["display_fps"], x["analysed_fps"],
                                            x["drops"].get("analysis_replaced", 0), x["frames"]))
PY

#!/usr/bin/env bash
# End-to-end test of the web dashboard:
#   tests/e2e/run_dashboard_test.sh BUILD_DIR
# Starts BUILD_DIR/vigil on a free loopback port with one looping stream of
# BUILD_DIR/test_videos/vtest20.mp4 (one zone, one line; events in SQLite,
# snapshots and clips recorded in the temp dir; --media-dir a temp folder
# holding a copy of the video, as uploads write there), makes a 3 s clip with
# ffmpeg for the upload (VIGIL_UPLOAD_VIDEO), waits for /healthz,
# runs tests/e2e/dashboard.spec.mjs with node (playwright-core + Debian's
# chromium, installed by scripts/web_setup.sh), stops vigil and returns the
# spec's exit code. Env: VIGIL_SCREENSHOT (default BUILD_DIR/dashboard.png),
# VIGIL_E2E_TIMEOUT_S (default 120). The vigil log is kept next to the screenshot.
# Exit codes: the spec's (0 pass, 1 fail), 2 bad usage, 77 tools missing (skip).
set -uo pipefail
if [ $# -lt 1 ]; then echo "usage: $0 BUILD_DIR" >&2; exit 2; fi
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=$(cd "$1" && pwd) || { echo "no build dir $1" >&2; exit 2; }
VIGIL=$BUILD/vigil
MEDIA=$BUILD/test_videos
VIDEO=$MEDIA/vtest20.mp4
for f in "$VIGIL" "$VIDEO"; do
  [ -e "$f" ] || { echo "FAIL: missing $f" >&2; exit 2; }
done
# Missing browser-test tools: exit 77 (ctest SKIP_RETURN_CODE), not a failure.
[ -d "$ROOT/third_party/web/node_modules/playwright-core" ] || {
  echo "SKIP: playwright-core missing: run scripts/web_setup.sh" >&2; exit 77; }
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || { echo "SKIP: /usr/bin/chromium missing: run scripts/web_setup.sh" >&2; exit 77; }
[ -f "$ROOT/web/vendor/uPlot.iife.min.js" ] || { echo "SKIP: web/vendor missing: run scripts/web_setup.sh" >&2; exit 77; }

TMP=$(mktemp -d /tmp/vigil-e2e.XXXXXX)
export VIGIL_SCREENSHOT=${VIGIL_SCREENSHOT:-$BUILD/dashboard.png}
LOG=${VIGIL_LOG:-${VIGIL_SCREENSHOT%.*}.vigil.log}
# The screenshot folder (build/test_tmp) is made by other tests too; run alone, this test makes it.
mkdir -p "$(dirname "$VIGIL_SCREENSHOT")" "$(dirname "$LOG")"
PORT=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
cat > "$TMP/vigil.yaml" <<YAML
events: {sqlite: $TMP/events.db}
record: {snapshots: true, clips: true, pre_s: 2, post_s: 2, kinds: [track_new, zone_enter, line_cross], dir: $TMP/recordings}
streams:
  - id: cam1
    url: $VIDEO
    loop: true
    zones:
      - {name: plaza, polygon: [[0.05, 0.45], [0.6, 0.45], [0.6, 0.98], [0.05, 0.98]], dwell_s: 3}
    lines:
      - {name: crossing, a: [0.5, 0.0], b: [0.5, 1.0]}
    describe: {captioner: template, every_s: 2}
YAML

VPID=
cleanup() {
  if [ -n "$VPID" ] && kill -0 "$VPID" 2>/dev/null; then
    kill -TERM "$VPID" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$VPID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$VPID" 2>/dev/null
    wait "$VPID" 2>/dev/null
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$TMP/media"
cp "$VIDEO" "$TMP/media/"
VIDEO=$TMP/media/$(basename "$VIDEO")
ffmpeg -loglevel error -y -i /usr/share/doc/opencv-doc/examples/data/vtest.avi -t 3 -c:v libx264 -preset ultrafast \
  "$TMP/upload-clip.mp4" || { echo "FAIL: ffmpeg could not make the upload clip" >&2; exit 1; }
"$VIGIL" run -c "$TMP/vigil.yaml" --listen "127.0.0.1:$PORT" --media-dir "$TMP/media" --jobs-dir "$TMP/jobs" >"$LOG" 2>&1 &
VPID=$!
URL=http://127.0.0.1:$PORT
ok=
for _ in $(seq 150); do
  if ! kill -0 "$VPID" 2>/dev/null; then break; fi
  if node -e 'fetch(process.argv[1]).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))' "$URL/healthz" 2>/dev/null; then ok=1; break; fi
  sleep 0.2
done
if [ -z "$ok" ]; then
  echo "FAIL: vigil did not answer $URL/healthz; its log ($LOG):" >&2
  tail -30 "$LOG" >&2
  exit 1
fi
echo "vigil up at $URL (log: $LOG)"

VIGIL_URL=$URL VIGIL_TEST_VIDEO=${VIGIL_TEST_VIDEO:-$VIDEO} VIGIL_UPLOAD_VIDEO=$TMP/upload-clip.mp4 \
  timeout "${VIGIL_E2E_TIMEOUT_S:-120}" node "$HERE/dashboard.spec.mjs"
rc=$?
[ $rc = 124 ] && echo "FAIL: the dashboard test ran past ${VIGIL_E2E_TIMEOUT_S:-120} s" >&2
if [ $rc != 0 ]; then echo "--- vigil log (last 20 lines) ---" >&2; tail -20 "$LOG" >&2; fi
exit $rc

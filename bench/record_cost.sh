#!/usr/bin/env bash
# The cost of recording (docs/performance.md, "Recording"):
#   bench/record_cost.sh N off|clips|on
# runs `vigil run` for 40 s on N looping copies of build/test_videos/vtest20.mp4
# (a zone over the whole frame, every 5th frame analysed, adaptive off), with
# no recording, clips only, or snapshots and clips of track_new and zone_enter
# events (pre_s 5, post_s 5), and prints the process's average CPU (user+sys
# over 40 s, % of one core), peak RSS, the stats' record figures and the bytes
# written. Needs build/vigil and the test videos.
set -eu
N=$1; MODE=$2; B=$(cd "$(dirname "$0")/.." && pwd)/build; D=$(mktemp -d /tmp/recbench.XXXX)
{
  echo "stats_interval_s: 0"; echo "adaptive: false"
  echo "events: {sqlite: $D/events.db}"
  [ "$MODE" = on ] && echo "record: {snapshots: true, clips: true, pre_s: 5, post_s: 5, kinds: [zone_enter, track_new], dir: $D/media}"
[ "$MODE" = clips ] && echo "record: {clips: true, pre_s: 5, post_s: 5, kinds: [zone_enter, track_new], dir: $D/media}"
  echo "defaults: {loop: true, every: 5, zones: [{name: plaza, polygon: [[0.02,0.02],[0.98,0.02],[0.98,0.98],[0.02,0.98]]}]}"
  echo "streams:"
  for i in $(seq $N); do echo "  - {id: cam$i, url: $B/test_videos/vtest20.mp4}"; done
} > $D/v.yaml
/usr/bin/time -f "%U %S %M" -o $D/time timeout -s TERM 40 $B/vigil run -c $D/v.yaml --no-server --stats $D/stats.json > $D/log 2>&1 || true
python3 - "$D" "$N" "$MODE" <<'PY'
import json,sys,os,subprocess
d,n,mode=sys.argv[1:]
s=json.load(open(d+"/stats.json"))
r=s.get("record",{})
du=subprocess.run(["du","-sb",d+"/media"],capture_output=True,text=True).stdout.split()[0] if os.path.isdir(d+"/media") else "0"
t=open(d+"/time").read().strip().splitlines()[-1].split(); cpu=(float(t[0])+float(t[1]))/40*100
print(f"cpu_avg%={cpu:.0f} maxrss_mb={int(t[2])/1024:.0f} streams={n} record={mode} cpu%={s['cpu_percent']:.0f} rss_mb={s['ram_mb']:.0f} display_fps={sum(x['display_fps'] for x in s['streams']):.1f} analysed={sum(x['analysed'] for x in s['streams'])} "
      f"snapshots={r.get('snapshots',0)} clips={r.get('clips',0)} shared={r.get('clips_shared',0)} drops={r.get('snapshot_drops',0)}/{r.get('clip_drops',0)} ring_bytes={r.get('ring_bytes',0)} disk_bytes={du}")
PY
rm -rf $D

#!/usr/bin/env bash
# Builds the committed seed corpus of the libFuzzer harnesses (docs/fuzzing.md):
#   fuzz/corpus/http_router/    raw HTTP requests (CRLF), one or more per file
#   fuzz/corpus/stream_config/  byte 0 = mode ('0' stream JSON, '1' PATCH JSON,
#                               '2' YAML text, '3' YAML file, '4' source URL)
#   fuzz/corpus/h264_nal/       byte 0 = framing (0 Annex B, 3 = 4-byte lengths), then a packet
#   fuzz/corpus/demux_decode/   byte 0 = decoder options (0 plain, 1 nonref, 2 nonkey, 4 strict), then a file
# Media come from a tiny ffmpeg encode (lavfi testsrc, 64x48, a few frames):
# the whole corpus stays well under 1 MB. Run from anywhere; rewrites the
# four folders (fuzz/crashes/ is left alone). Needs ffmpeg and python3.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$here/corpus
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -rf "$out/http_router" "$out/stream_config" "$out/h264_nal" "$out/demux_decode"
mkdir -p "$out/http_router" "$out/stream_config" "$out/h264_nal" "$out/demux_decode"

# ---- HTTP requests ----------------------------------------------------------
# req NAME 'request with \n line ends': writes it with CRLF line ends and a
# correct Content-Length for the part after the blank line (if any).
req() {
  python3 - "$out/http_router/$1" "$2" <<'PY'
import sys
path, text = sys.argv[1], sys.argv[2]
head, sep, body = text.partition("\n\n")
lines = head.split("\n")
if sep and body and not any(l.lower().startswith(("content-length:", "transfer-encoding:")) for l in lines):
    lines.append("Content-Length: %d" % len(body.encode()))
data = "\r\n".join(lines).encode() + b"\r\n\r\n" + body.encode()
open(path, "wb").write(data)
PY
}
H='Host: 127.0.0.1:8080'
A='Authorization: Bearer fuzz-token'
req healthz        "GET /healthz HTTP/1.1
$H"
req stats          "GET /api/stats HTTP/1.1
$H
$A"
req stats_reset    "POST /api/stats/reset HTTP/1.1
$H
$A
Origin: http://127.0.0.1:8080"
req streams        "GET /api/streams HTTP/1.1
$H
Cookie: theme=dark; vigil_token=fuzz-token"
req stream_one     "GET /api/streams/cam1 HTTP/1.1
$H
$A"
req stream_post    "POST /api/streams HTTP/1.1
$H
$A
Content-Type: application/json

{\"id\": \"cam2\", \"url\": \"clip.mp4\", \"every\": 2, \"zones\": [{\"name\": \"door\", \"polygon\": [[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]]}]}"
req stream_post_url "POST /api/streams/ HTTP/1.1
$H
$A
Content-Type: application/json

{\"id\": \"cam3\", \"url\": \"rtsp://admin:s3cret@127.0.0.1:8554/cam\", \"gate\": {\"enabled\": true}}"
req stream_patch   "PATCH /api/streams/cam1 HTTP/1.1
$H
$A
Content-Type: application/json

{\"every\": 3, \"gate\": {\"similarity\": 0.9}, \"lines\": [{\"name\": \"l\", \"a\": [0, 0.5], \"b\": [1, 0.5]}]}"
req stream_delete  "DELETE /api/streams/cam1 HTTP/1.1
$H
$A"
req events         "GET /api/events?stream=cam1&kind=track_new&limit=5&since=0 HTTP/1.1
$H
$A"
req events_zone    "GET /api/events?zone=door&limit=1e3 HTTP/1.1
$H"
req metrics        "GET /metrics HTTP/1.1
$H"
req jobs           "GET /api/jobs HTTP/1.1
$H"
req jobs_post      "POST /api/jobs HTTP/1.1
$H
Content-Type: application/json

{\"path\": \"clip.mp4\", \"sample_fps\": 2, \"chunk_s\": 10, \"classes\": [\"person\"]}"
req job_report     "GET /api/jobs/12/report HTTP/1.1
$H"
req index_html     "GET / HTTP/1.1
$H
Accept: text/html,application/xhtml+xml"
req static_js      "GET /static/app.js HTTP/1.1
$H"
req static_dot     "GET /static/.secret HTTP/1.1
$H"
req static_escape  "GET /static/%2e%2e/index.html HTTP/1.1
$H"
req static_head    "HEAD /static/sub/x.svg HTTP/1.1
$H"
req login_form     "POST /login HTTP/1.1
$H
Content-Type: application/x-www-form-urlencoded

token=fuzz-token"
req login_json     "POST /login HTTP/1.1
$H
Origin: http://127.0.0.1:8080
Content-Type: application/json; charset=utf-8

{\"token\": \"wrong\"}"
req login_get      "GET /login HTTP/1.1
$H"
req mjpeg          "GET /api/streams/cam1/mjpeg?fps=5&quality=50&width=320&overlay=0&token=fuzz-token HTTP/1.1
$H"
req snapshot       "GET /api/streams/cam1/snapshot.jpg?quality=90 HTTP/1.1
$H
$A"
req ws_events      "GET /ws/events HTTP/1.1
$H
Upgrade: websocket
Connection: Upgrade
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==
Sec-WebSocket-Version: 13
Origin: http://127.0.0.1:8080"
req ws_stream      "GET /ws/streams/cam1?video=0&token=fuzz-token HTTP/1.1
$H
Upgrade: websocket
Connection: Upgrade
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==
Sec-WebSocket-Version: 13"
req ws_job         "GET /ws/jobs/3 HTTP/1.1
$H
Upgrade: websocket
Connection: Upgrade
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==
Sec-WebSocket-Version: 13"
req cross_origin   "DELETE /api/stats/reset HTTP/1.1
Host: localhost:8080
Origin: http://attacker.example:8080"
req chunked        "POST /api/stats/reset HTTP/1.1
$H
Transfer-Encoding: chunked

4
abcd
0
"
req http10         "GET /api/stats HTTP/1.0"
# Two pipelined requests in one input.
python3 - "$out/http_router/pipelined" <<'PY'
import sys
a = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"
body = b'{"every": 2}'
b = (b"PATCH /api/streams/cam1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Type: application/json\r\n"
     b"Content-Length: %d\r\n\r\n" % len(body)) + body
open(sys.argv[1], "wb").write(a + b)
PY
# A deeply nested body (1000 levels, 2 KB) on a route that parses JSON.
python3 - "$out/http_router/deep_json" <<'PY'
import sys
body = b"[" * 1000 + b"]" * 1000
open(sys.argv[1], "wb").write(b"POST /login HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Type: application/json\r\n"
                              b"Content-Length: %d\r\n\r\n" % len(body) + body)
PY

# ---- stream JSON / config YAML / URLs ---------------------------------------
sc() { printf '%s' "$2" > "$out/stream_config/$1"; }
sc stream_min     '0{"id": "cam1", "url": "rtsp://127.0.0.1:8554/cam1"}'
sc stream_full    '0{"id": "cam-2", "url": "/media/a.mp4", "loop": true, "every": 4, "substream": {"width": 640}, "gate": {"enabled": true, "similarity": 0.95, "max_skip": 10}, "hwaccel": "none", "skip_frame": "nonref", "timeout_s": 5, "watchdog_s": 8, "max_pixels": 2073600, "decode_threads": 2, "conf": 0.4, "iou": 0.45, "max_det": 50, "classes": ["person", "car"], "tracker": {"high_thresh": 0.6, "low_thresh": 0.1, "min_hits": 2, "class_aware": true}, "zones": [{"name": "door", "polygon": [[10, 10], [200, 10], [200, 100]], "dwell_s": 3, "anchor": "bottom_center"}], "lines": [{"name": "gate", "a": [0, 0.7], "b": [1, 0.7], "min_frames": 2, "classes": ["person"]}], "describe": {"captioner": "vlm", "endpoint": "http://127.0.0.1:8081", "model": "m", "every_s": 30, "max_tokens": 40}}'
sc stream_bad     '0{"id": "Cam 1", "url": "concat:a|b", "every": 0}'
sc stream_number  '0{"id": "a", "url": "webcam:0", "every": 1e300, "conf": -0.0}'
sc patch_every    '1{"every": 3}'
sc patch_objects  '1{"gate": {"enabled": false}, "substream": {"scale": 0.5, "width": null}, "zones": [], "describe": {"api_key": "k", "on_scene_change": true}}'
sc patch_bad      '1{"url": "x", "id": "y"}'
sc yaml_doc       "2$(sed -n '/^```yaml$/,/^```$/p' "$here/../docs/config.md" | sed '1d;$d')"
sc yaml_min       '2streams:
  - {id: a, url: /tmp/a.mp4}
'
sc yaml_engine    '2model: {path: models/nanodet-m-416.onnx, device: cpu, threads: 2, arena: true}
batch: {max: 4, wait_ms: 5}
workers: 2
offline: true
adaptive: false
max_every: 10
latency_target_ms: 300
stats_interval_s: 0
events: {jsonl: "-", sqlite: ""}
jobs: {dir: /tmp/jobs, concurrency: 2, workers: 1}
describe: {captioner: template, every_frames: 100}
defaults:
  tracker: {match_iou: 0.3, lost_buffer_s: 2}
streams:
  - id: x
    url: http://127.0.0.1:8000/a.m3u8
    describe: {captioner: "off"}
'
sc yaml_anchors   '3defaults: &d {every: 2, classes: [person]}
streams:
  - {id: a, url: "rtsp://u:p@127.0.0.1/x", <<: *d}
  - !!map {id: b, url: webcam:1}
'
sc yaml_bad       '2streams: [{id: a, url: a.mp4, zones: [{name: z, polygon: [[0, 0], [1, 1]]}]}]
unknown_key: 1
'
sc url_rtsp       '4rtsp://admin:s3cret@127.0.0.1:554/stream1?token=abc&x=1'
sc url_http       '4https://user@127.0.0.1/live.m3u8?api_key=k#frag'
sc url_file       '4/recordings/Lobby Cam.2024-01-01.mp4'
sc url_text       '4stream down: rtsp://a:b@h/x and http://c:d@e/f?password=p failed'

# ---- H.264 ------------------------------------------------------------------
ffmpeg -hide_banner -loglevel error -f lavfi -i testsrc=size=64x48:rate=10 -frames:v 4 \
  -c:v libx264 -preset ultrafast -g 4 -bf 2 -x264-params "sliced-threads=0" -bsf:v filter_units=remove_types=6 \
  -f h264 "$tmp/a.h264"
python3 - "$tmp/a.h264" "$out/h264_nal" <<'PY'
import sys, os, re
data = open(sys.argv[1], "rb").read()
out = sys.argv[2]
# Split into NAL units at start codes.
starts = [m.start() for m in re.finditer(b"\x00\x00\x01", data)]
nals = []
for i, s in enumerate(starts):
    e = starts[i + 1] if i + 1 < len(starts) else len(data)
    nal = data[s + 3:e]
    while nal.endswith(b"\x00"):
        nal = nal[:-1]
    nals.append(nal)
annexb = lambda ns: b"".join(b"\x00\x00\x00\x01" + n for n in ns)
avcc = lambda ns: b"".join(len(n).to_bytes(4, "big") + n for n in ns)
small = [n for n in nals if len(n) < 200]
open(os.path.join(out, "annexb_stream"), "wb").write(b"\x00" + annexb(nals)[:600])
open(os.path.join(out, "annexb_small"), "wb").write(b"\x00" + annexb(small))
open(os.path.join(out, "avcc_small"), "wb").write(b"\x03" + avcc(small))
for n in small[:6]:
    t = n[0] & 0x1F
    open(os.path.join(out, "nal_type%d_%d" % (t, small.index(n))), "wb").write(b"\x01" + len(n).to_bytes(1, "big")[-1:] + n)
# An avcC record (for h264_length_size): version 1, profile, compat, level, 0xFF (4-byte lengths), 1 SPS, 1 PPS.
sps = next(n for n in nals if n[0] & 0x1F == 7)
pps = next(n for n in nals if n[0] & 0x1F == 8)
rec = bytes([1, sps[1], sps[2], sps[3], 0xFF, 0xE1]) + len(sps).to_bytes(2, "big") + sps + b"\x01" + len(pps).to_bytes(2, "big") + pps
open(os.path.join(out, "avcc_record"), "wb").write(rec)
PY

# ---- media files ------------------------------------------------------------
enc() {  # enc NAME OPTIONS_BYTE ffmpeg-output-args...
  local name=$1 opt=$2
  shift 2
  ffmpeg -hide_banner -loglevel error -f lavfi -i testsrc=size=64x48:rate=10 -frames:v 3 "$@" "$tmp/$name"
  { printf "\\x$opt"; cat "$tmp/$name"; } > "$out/demux_decode/$name"
}
enc h264.mp4    00 -c:v libx264 -preset ultrafast -g 3 -bf 1 -bsf:v filter_units=remove_types=6 -movflags +faststart
enc h264_nonref.ts 01 -c:v libx264 -preset ultrafast -g 3 -bf 2 -bsf:v filter_units=remove_types=6 -f mpegts
enc mpeg4.avi   02 -c:v mpeg4 -q:v 10
enc mjpeg.mkv   04 -c:v mjpeg -q:v 20
enc hevc.mp4    00 -c:v libx265 -preset ultrafast -x265-params log-level=0:info=0 -g 3
enc frame.png   00 -update 1 -frames:v 1 -f image2
cp "$tmp/a.h264" "$tmp/raw.h264" && { printf '\x00'; head -c 1200 "$tmp/raw.h264"; } > "$out/demux_decode/raw.h264"

du -sh "$out"

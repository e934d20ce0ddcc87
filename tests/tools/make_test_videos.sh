#!/usr/bin/env bash
# Builds the video fixtures of the engine tests from media that Debian ships
# (opencv-doc's vtest.avi, darknet's dog.jpg), with the ffmpeg CLI.
# Usage: make_test_videos.sh OUT_DIR   (idempotent: existing files are kept)
set -euo pipefail
out=${1:?usage: make_test_videos.sh OUT_DIR}
mkdir -p "$out"
VTEST=/usr/share/doc/opencv-doc/examples/data/vtest.avi
DOG=/usr/share/darknet/data/dog.jpg
ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }
# mk NAME COMMAND...: runs COMMAND with a temporary output path unless NAME exists.
mk() {
  local f=$out/$1
  shift
  if [ ! -s "$f" ]; then
    "$@" "$f.tmp.${f##*.}"
    mv "$f.tmp.${f##*.}" "$f"
  fi
}

# 20 s of pedestrians (200 frames, 10 fps, 768x576), H.264.
# faststart: the index comes first, so a truncated copy still plays up to its cut.
mk vtest20.mp4 ff -i "$VTEST" -t 20 -c:v libx264 -preset veryfast -pix_fmt yuv420p -g 20 -movflags +faststart
# 3 s of pedestrians (30 frames), for runs that must end quickly in real time.
mk vtest3.mp4 ff -i "$VTEST" -t 3 -c:v libx264 -preset veryfast -pix_fmt yuv420p -g 10
# The same under a name with a space and capitals (file names are not ids).
[ -s "$out/My Video.mp4" ] || cp "$out/vtest3.mp4" "$out/My Video.mp4"
# A still scene: one photo looped for 8 s at 25 fps (encoder noise only).
mk still.mp4 ff -loop 1 -i "$DOG" -t 8 -r 25 -c:v libx264 -preset veryfast -pix_fmt yuv420p
# Audio only: a 3 s tone.
mk audio_only.m4a ff -f lavfi -i sine=frequency=440:duration=3 -c:a aac
# A file cut at half its size.
[ -s "$out/half.mp4" ] || head -c $(( $(stat -c %s "$out/vtest20.mp4") / 2 )) "$out/vtest20.mp4" > "$out/half.mp4"
# Random bytes named .mp4 (fixed content: the same bytes every time).
[ -s "$out/random.mp4" ] || head -c 200000 /dev/zero | openssl enc -aes-128-ctr -nosalt -pass pass:vigil -pbkdf2 2>/dev/null > "$out/random.mp4" \
  || head -c 200000 /dev/urandom > "$out/random.mp4"
# A long video for offline analysis: vtest.avi (79.5 s) encoded once as
# H.264 with B-frames and a keyframe every 5 s, then 8 copies joined without
# re-encoding: 636 s (10 min 36 s), 768x576, 10 fps.
if [ ! -s "$out/long.mp4" ]; then
  ff -i "$VTEST" -c:v libx264 -preset veryfast -pix_fmt yuv420p -g 50 -bf 3 "$out/vtest_h264.tmp.mp4"
  : > "$out/long.txt"
  for _ in 1 2 3 4 5 6 7 8; do echo "file 'vtest_h264.tmp.mp4'" >> "$out/long.txt"; done
  ff -f concat -safe 0 -i "$out/long.txt" -c copy "$out/long.tmp.mp4"
  rm -f "$out/long.txt" "$out/vtest_h264.tmp.mp4"
  mv "$out/long.tmp.mp4" "$out/long.mp4"
fi
# Damaged media: vtest.avi (79.5 s) as H.264 in MPEG-TS (B-frames, a keyframe
# every 5 s), then 64 KiB at a third of the file overwritten with a fixed
# pattern (the same bytes every time): a damaged stretch of about a second.
mk vtest.ts ff -i "$VTEST" -c:v libx264 -preset veryfast -pix_fmt yuv420p -g 50 -bf 3 -f mpegts
if [ ! -s "$out/damaged.ts" ]; then
  cp "$out/vtest.ts" "$out/damaged.tmp.ts"
  python3 - "$out/damaged.tmp.ts" <<'PY'
import os, sys
path = sys.argv[1]
junk = bytes((i * 131 + 7) & 0xFF for i in range(64 * 1024))
with open(path, "r+b") as f:
    f.seek(os.path.getsize(path) // 3)
    f.write(junk)
PY
  mv "$out/damaged.tmp.ts" "$out/damaged.ts"
fi
# A quiet scene (motion regions): a textured static background, empty for 3 s;
# then person.jpg (a person, a horse, a dog), scaled to 480 px, slides in from
# the left for ~5 s and stays still for the last ~4 s. 960x540, 25 fps, 12 s.
PERSON=/usr/share/darknet/data/person.jpg
mk motion_scene.mp4 ff -f lavfi -i "color=c=0x5a6470:s=960x540:r=25:d=12,drawgrid=w=48:h=48:t=2:c=0x46505c" \
  -loop 1 -i "$PERSON" -filter_complex \
  "[1]scale=480:-2,format=yuv420p[o];[0][o]overlay=x='if(lt(t,3),-600,min((t-3)*160-480,300))':y=110:shortest=1" \
  -t 12 -c:v libx264 -preset veryfast -pix_fmt yuv420p -g 50
# An empty file.
: > "$out/empty.mp4"
echo "test videos in $out"

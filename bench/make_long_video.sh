#!/usr/bin/env bash
# Builds the offline-analysis benchmark video: HOURS hours of 1080p30 H.264
# made from opencv-doc's vtest.avi (pedestrians), camera-like: scaled to
# 1920x1080, 30 fps, light temporal sensor noise, keyframe every 2 s, B-frames
# (x264 veryfast). One 79.5 s segment is encoded, then copies are joined
# without re-encoding.
# Usage: bench/make_long_video.sh OUT.mp4 [HOURS=2]   (kept if it exists)
set -euo pipefail
out=${1:?usage: make_long_video.sh OUT.mp4 [HOURS]}
mkdir -p "$(dirname "$out")"
hours=${2:-2}
[ -s "$out" ] && { echo "$out exists"; exit 0; }
VTEST=/usr/share/doc/opencv-doc/examples/data/vtest.avi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ffmpeg -nostdin -hide_banner -loglevel error -y -i "$VTEST" \
  -vf "scale=1920:1080:flags=bicubic,fps=30,noise=alls=3:allf=t" \
  -c:v libx264 -preset veryfast -crf 23 -g 60 -keyint_min 60 -sc_threshold 0 -pix_fmt yuv420p "$tmp/seg.mp4"
seg=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$tmp/seg.mp4")
n=$(awk -v h="$hours" -v s="$seg" 'BEGIN { n = int(h * 3600 / s); if (n * s < h * 3600) n++; print n }')
for _ in $(seq "$n"); do echo "file '$tmp/seg.mp4'"; done > "$tmp/list.txt"
ffmpeg -nostdin -hide_banner -loglevel error -y -f concat -safe 0 -i "$tmp/list.txt" -t $((hours * 3600)) -c copy "$tmp/out.mp4"
mv "$tmp/out.mp4" "$out"
ffprobe -v error -show_entries format=duration,size:stream=width,height,r_frame_rate,codec_name "$out"

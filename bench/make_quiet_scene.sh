#!/usr/bin/env bash
# A quiet scene for the capacity benchmarks (issue 12): a mostly static 720p25
# camera view (darknet's dog.jpg: dog, bicycle, truck, scaled to 1280x720, with
# light temporal sensor noise) and one moving object (darknet's person.jpg,
# 320 px wide: a person, a dog and a horse) crossing it left to right every
# 20 s. H.264, a keyframe every 2 s, like bench/streams.sh's busy video.
# Usage: bench/make_quiet_scene.sh OUT.mp4 [SECONDS]   (default 60)
set -euo pipefail
out=${1:?usage: make_quiet_scene.sh OUT.mp4 [SECONDS]}
secs=${2:-60}
[ -s "$out" ] && { echo "$out exists"; exit 0; }
mkdir -p "$(dirname "$out")"
data=/usr/share/darknet/data
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ffmpeg -nostdin -hide_banner -loglevel error -y -loop 1 -i "$data/dog.jpg" -loop 1 -i "$data/person.jpg" \
  -filter_complex "[0]scale=1280:720,noise=alls=3:allf=t[bg];[1]scale=320:-2[fg];[bg][fg]overlay=x='mod(t*80\,1600)-320':y=420,fps=25,format=yuv420p" \
  -t "$secs" -c:v libx264 -preset veryfast -g 50 "$tmp/out.mp4"
mv "$tmp/out.mp4" "$out"
echo "$out: ${secs} s, 1280x720, 25 fps"

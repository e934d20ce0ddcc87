#!/usr/bin/env bash
# Serves FILE as a live MPEG-TS stream over HTTP on 127.0.0.1:PORT with the
# ffmpeg CLI (real-time paced, looping). ffmpeg's HTTP listener takes one
# client and then exits, so it is restarted for the next one.
# Usage: serve_mpegts.sh PORT FILE   (kill the process group to stop it)
set -u
port=${1:?port}; file=${2:?file}
while true; do
  ffmpeg -nostdin -hide_banner -loglevel quiet -re -stream_loop -1 -i "$file" -c copy -f mpegts \
    -listen 1 "http://127.0.0.1:$port/live.ts"
  sleep 0.1
done

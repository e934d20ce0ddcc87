#!/usr/bin/env bash
# The GPU build of ONNX Runtime for Vigil (README, "Using a GPU"): the CPU
# package's libonnxruntime.so and headers (third_party/onnxruntime, made by
# scripts/setup.sh) plus the CUDA and TensorRT provider libraries of npm
# com.github.asus4.onnxruntime.linux-x64-gpu, in one folder:
#   DEST/lib/libonnxruntime.so{,.1}, libonnxruntime_providers_{shared,cuda,tensorrt}.so
#   DEST/include/*.h
# ONNX Runtime loads the provider libraries from the folder of libonnxruntime.so.
# CMake uses DEST when it exists (-DVIGIL_GPU=AUTO, the default; OFF = CPU package).
# Idempotent; the tarball (~180 MB) is kept in DEST/../downloads.
# Usage: scripts/setup_gpu.sh [DEST]   (default: third_party/onnxruntime-gpu)
# Called by scripts/setup.sh when GPU=1 or VIGIL_GPU=1 (make setup GPU=1).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
GPU_PKG=com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9
DEST=${1:-$ROOT/third_party/onnxruntime-gpu}
CPU_ORT=${CPU_ORT:-$ROOT/third_party/onnxruntime}
DL=$(dirname "$DEST")/downloads
log() { printf '[setup-gpu] %s\n' "$*"; }

if [ ! -f "$CPU_ORT/lib/libonnxruntime.so" ] || [ ! -f "$CPU_ORT/include/onnxruntime_cxx_api.h" ]; then
  echo "[setup-gpu] $CPU_ORT has no ONNX Runtime: run scripts/setup.sh first" >&2
  exit 1
fi
if [ -f "$DEST/lib/libonnxruntime_providers_cuda.so" ] && [ -f "$DEST/lib/libonnxruntime.so.1" ] &&
   [ -f "$DEST/include/onnxruntime_cxx_api.h" ]; then
  log "GPU ONNX Runtime: present ($DEST)"
  exit 0
fi
name=${GPU_PKG%@*}; ver=${GPU_PKG##*@}
tgz=$DL/$name-$ver.tgz
if [ ! -s "$tgz" ]; then
  mkdir -p "$DL"
  log "fetching $GPU_PKG from npm (~180 MB)"
  (cd "$DL" && npm pack --silent "$GPU_PKG" >/dev/null)
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tar xzf "$tgz" -C "$tmp" package/Plugins/Linux/x64
rm -rf "$DEST" && mkdir -p "$DEST/lib" "$DEST/include"
cp "$CPU_ORT"/include/*.h "$DEST/include/"
cp "$CPU_ORT/lib/libonnxruntime.so" "$DEST/lib/"
cp "$tmp"/package/Plugins/Linux/x64/*.so "$DEST/lib/"
ln -sf libonnxruntime.so "$DEST/lib/libonnxruntime.so.1"
log "GPU ONNX Runtime installed in $DEST:"
# What the provider libraries need from the system (CUDA, cuDNN, TensorRT):
# listed now, so a missing one is not a surprise at run time.
for lib in "$DEST"/lib/libonnxruntime_providers_{cuda,tensorrt}.so; do
  missing=$(ldd "$lib" 2>/dev/null | awk '/not found/ {print $1}' | tr '\n' ' ')
  log "  $(basename "$lib"): ${missing:+needs (not found here): }${missing:-all libraries found}"
done

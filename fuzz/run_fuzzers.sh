#!/usr/bin/env bash
# Runs the libFuzzer harnesses of BUILD_DIR (built with -DVIGIL_FUZZ=ON):
#   fuzz/run_fuzzers.sh BUILD_DIR SECONDS [HARNESS...]
# For each harness (default: all four): first replays every regression input
# in fuzz/crashes/<harness>/ (each must run clean), then fuzzes for SECONDS
# on a working copy of the seed corpus (BUILD_DIR/fuzz-corpus/<harness>,
# new inputs land there; fuzz/corpus/ is only read), with the harness's
# dictionary. Crash/leak/timeout/OOM inputs go to BUILD_DIR/fuzz-artifacts/.
# Prints executions per harness; exits 1 if any harness found anything.
# Extra libFuzzer flags: FUZZ_FLAGS (e.g. FUZZ_FLAGS="-jobs=2 -workers=2").
set -uo pipefail
build=${1:?usage: run_fuzzers.sh BUILD_DIR SECONDS [HARNESS...]}
seconds=${2:?usage: run_fuzzers.sh BUILD_DIR SECONDS [HARNESS...]}
shift 2
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$build" && pwd)
harnesses=("$@")
((${#harnesses[@]})) || harnesses=(http_router stream_config h264_nal demux_decode)
# UBSan reports abort (the library is built with -fno-sanitize-recover too).
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
# ONNX Runtime (prebuilt) keeps one allocation alive at exit.
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$here/../tests/lsan.supp}
failed=0
summary=()
for h in "${harnesses[@]}"; do
  bin=$build/fuzz/fuzz_$h
  if [ ! -x "$bin" ]; then
    echo "[fuzz] $bin is missing (build the 'fuzzers' target)" >&2
    exit 2
  fi
  logs=$build/fuzz-logs
  artifacts=$build/fuzz-artifacts/$h/
  work=$build/fuzz-corpus/$h
  mkdir -p "$logs" "$artifacts" "$work"
  dict=()
  [ -f "$here/$h.dict" ] && dict=(-dict="$here/$h.dict")
  # Known crashes, fixed: each input must now run clean.
  if compgen -G "$here/crashes/$h/*" >/dev/null; then
    if ! "$bin" -runs=1 "${dict[@]}" "$here/crashes/$h"/* >"$logs/$h.replay.log" 2>&1; then
      echo "[fuzz] $h: a regression input fails again: $(grep '^Running: ' "$logs/$h.replay.log" | tail -n 1 | cut -d' ' -f2-)" >&2
      echo "[fuzz] (log: $logs/$h.replay.log)" >&2
      grep -v '^Running: \|^Executed ' "$logs/$h.replay.log" | grep -m1 -A20 -E 'what\(\)|ERROR|runtime error|deadly' >&2
      failed=1
      summary+=("$h: REGRESSION")
      continue
    fi
  fi
  echo "[fuzz] $h: ${seconds}s on $work (+ fuzz/corpus/$h)"
  # shellcheck disable=SC2086
  "$bin" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2560 -print_final_stats=1 \
    -artifact_prefix="$artifacts" "${dict[@]}" ${FUZZ_FLAGS:-} "$work" "$here/corpus/$h" >"$logs/$h.log" 2>&1
  rc=$?
  execs=$(grep -h 'stat::number_of_executed_units' "$logs/$h.log" | awk '{s += $2} END {print s + 0}')
  corpus=$(find "$work" -type f | wc -l)
  if [ $rc -ne 0 ]; then
    echo "[fuzz] $h: FAILED (exit $rc) after $execs executions; log $logs/$h.log, inputs in $artifacts" >&2
    grep -h -A25 -m1 -E '^==[0-9]+==ERROR|runtime error|^==[0-9]+== ERROR|deadly signal|Test unit written' "$logs/$h.log" >&2 || tail -n 30 "$logs/$h.log" >&2
    failed=1
    summary+=("$h: FAILED, $execs executions")
  else
    summary+=("$h: ok, $execs executions in ${seconds}s, corpus $corpus")
  fi
done
printf '[fuzz] %s\n' "${summary[@]}"
exit $failed

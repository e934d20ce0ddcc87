// Prometheus text exposition (format 0.0.4) of the engine statistics.
//
// In: the engine's figures (EngineStats, as Engine::stats() makes them).
// Out: the /metrics body, every family with # HELP and # TYPE:
//   vigil_stage_latency_seconds{stage}     summary: quantile 0.5/0.95/0.99,
//                                          _sum and _count over the stage's
//                                          latency window (last 2048 calls)
//   vigil_analysis_latency_seconds         summary, capture -> result applied
//   vigil_stream_fps{stream,kind}          gauge, kind = source|display|analysed
//   vigil_stream_frames_total{stream}      counter, frames through the stream loop
//   vigil_stream_up{stream}                gauge, 1 up, 0 down or ended
//   vigil_stream_reconnects_total{stream}  counter, source reopened after a failure
//   vigil_events_total{stream,kind}        counter, kinds that occurred
//   vigil_zone_occupancy{stream,zone,class} gauge, tracks inside now
//   vigil_line_crossings_total{stream,line,direction} counter, direction = in|out
//   vigil_drops_total{stream,reason}       counter
//   vigil_batch_size_avg                   gauge
//   vigil_inferences_total                 counter (images inferred)
//   vigil_process_cpu_percent              gauge, percent of one core
//   vigil_process_resident_memory_bytes    gauge
//   vigil_stage_duration_seconds{stage}    histogram since start
//   vigil_caption_requests_total{captioner,endpoint,outcome}, vigil_caption_latency_seconds
// Stages are listed in the order of their names. Every family is declared
// even when it has no sample (no stream, no captioner).
// Pure: no I/O, no threads.
#pragma once

#include <string>

#include "pipeline/engine_stats.h"

namespace vigil {

inline constexpr const char* kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

std::string prometheus_text(const EngineStats& stats);

// Escapes a label value: backslash, double quote and newline.
std::string prometheus_label_value(const std::string& value);

}  // namespace vigil

// Rounding for values written to JSON and CSV: one definition, so every
// file and reply rounds the same way.
//
// Pure inline functions; safe from any thread.
#pragma once

#include <cmath>

namespace vigil {

// To 1e-3 (milliseconds for seconds; the precision of every time in event,
// chunk and results JSON).
inline double round3(double v) { return std::round(v * 1000.0) / 1000.0; }

// To 1e-1 (box coordinates in pixels, latencies in ms).
inline double round1(double v) { return std::round(v * 10.0) / 10.0; }

// To 1e-2 (speeds, ratios).
inline double round2(double v) { return std::round(v * 100.0) / 100.0; }

}  // namespace vigil

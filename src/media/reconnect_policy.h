// Reconnect backoff: 1 s, doubling, capped at 30 s; reset after a success.
// Pure value type.
#pragma once

#include <algorithm>

namespace vigil {

struct ReconnectPolicy {
  double initial_s = 1.0;
  double max_s = 30.0;
  int failures = 0;

  // Delay before the next attempt, then counts the failure.
  double next_delay() {
    double d = initial_s;
    for (int i = 0; i < failures && d < max_s; ++i) d *= 2;
    ++failures;
    return std::min(d, max_s);
  }
  void reset() { failures = 0; }
};

}  // namespace vigil

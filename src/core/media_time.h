// Media time comparisons. Times are seconds as doubles, built from sums of
// frame steps (0.1 + 0.2 is not 0.3), so comparisons against a period or a
// grid allow this much.
#pragma once

namespace vigil {

inline constexpr double kMediaTimeEpsilon = 1e-9;  // seconds

}  // namespace vigil

#include "core/cpu_budget.h"

#include <algorithm>

namespace vigil {

int auto_decode_threads(int streams, int cores) {
  streams = std::max(streams, 1);
  cores = std::max(cores, 1);
  if (streams >= cores) return 1;
  return std::clamp(cores / streams, 1, kMaxAutoDecodeThreads);
}

int auto_inference_threads(int cores, int workers) { return std::max(std::max(cores, 1) / std::max(workers, 1), 1); }

}  // namespace vigil

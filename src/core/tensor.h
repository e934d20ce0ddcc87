// Tensor: a dense float32 array with its shape, batch-major. What Backend
// returns and decoders read (float16 model outputs are converted on the way).
#pragma once

#include <cstdint>
#include <vector>

namespace vigil {

struct Tensor {
  std::vector<std::int64_t> shape;
  std::vector<float> data;
};

}  // namespace vigil

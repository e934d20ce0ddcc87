// JPEG encoding with libjpeg-turbo's TurboJPEG API.
// Not thread-safe: one JpegEncoder per thread (the handle is reused).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/image.h"

namespace vigil {

class JpegEncoder {
 public:
  JpegEncoder();
  ~JpegEncoder();
  JpegEncoder(const JpegEncoder&) = delete;
  JpegEncoder& operator=(const JpegEncoder&) = delete;

  // quality 1..100; 4:2:0 subsampling.
  Result<std::vector<std::uint8_t>> encode(const Image& image, int quality = 85);

 private:
  void* handle_ = nullptr;  // tjhandle
};

// Encodes and writes `image` to `path`; errors name the path.
Result<void> write_jpeg(const std::string& path, const Image& image, int quality = 90);

}  // namespace vigil

// Image: an owning, tightly packed 8-bit pixel buffer.
// Once published to other threads it is shared as std::shared_ptr<const Image>
// and never modified again.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"

namespace vigil {

enum class PixelFormat { kBgr24, kRgb24, kGray8 };

inline int channels(PixelFormat f) { return f == PixelFormat::kGray8 ? 1 : 3; }

struct Image {
  PixelFormat format = PixelFormat::kBgr24;
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> pixels;  // [height, width, channels] row-major, no padding

  Image() = default;
  Image(PixelFormat f, int w, int h)
      : format(f), width(w), height(h),
        pixels(static_cast<std::size_t>(w) * static_cast<std::size_t>(h) * static_cast<std::size_t>(channels(f))) {}
  int stride() const { return width * channels(format); }
  bool empty() const { return width <= 0 || height <= 0; }
  std::uint8_t* row(int y) { return pixels.data() + static_cast<std::size_t>(y) * static_cast<std::size_t>(stride()); }
  const std::uint8_t* row(int y) const {
    return pixels.data() + static_cast<std::size_t>(y) * static_cast<std::size_t>(stride());
  }
};

}  // namespace vigil

// Still-image file input: decode a JPEG/PNG/BMP/... file into a BGR Image.
// The dimensions are read from the file's header first, so an image that
// declares more pixels than allowed (a decompression bomb: a small file that
// would decode to gigabytes) is refused before anything is decoded.
#pragma once

#include <cstdint>
#include <string>

#include "core/error.h"
#include "core/image.h"

namespace vigil {

// The default pixel limit of still images: the same as a video's max_pixels
// default (8K UHD, 8192 x 4320).
constexpr std::int64_t kDefaultMaxImagePixels = 8192LL * 4320;

enum class ImageFormat { kPng, kJpeg, kBmp, kWebp, kTiff, kPnm };

struct ImageHeader {
  ImageFormat format = ImageFormat::kPng;
  std::int64_t width = 0;   // as declared by the file, in pixels
  std::int64_t height = 0;
};

// Reads the format and the declared dimensions from the first bytes of the
// file (PNG IHDR, JPEG SOFn, BMP info header, WebP VP8/VP8L/VP8X, TIFF first
// IFD, PNM header); decodes no pixels. Errors name the path: unreadable file,
// unknown format, truncated or invalid header.
Result<ImageHeader> read_image_header(const std::string& path);

// Errors name the path: missing file, a directory, an empty file, not an
// image, or an image whose declared width x height exceeds max_pixels.
Result<Image> load_image(const std::string& path, std::int64_t max_pixels = kDefaultMaxImagePixels);

}  // namespace vigil

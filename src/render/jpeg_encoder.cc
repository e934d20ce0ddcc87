#include "render/jpeg_encoder.h"

#include <algorithm>
#include <fstream>

#include <turbojpeg.h>

namespace vigil {

JpegEncoder::JpegEncoder() : handle_(tjInitCompress()) {}
JpegEncoder::~JpegEncoder() {
  if (handle_) tjDestroy(static_cast<tjhandle>(handle_));
}

Result<std::vector<std::uint8_t>> JpegEncoder::encode(const Image& image, int quality) {
  if (!handle_) return fail(ErrorCode::kRuntime, "TurboJPEG: cannot create a compressor");
  if (image.empty()) return fail(ErrorCode::kInvalidArgument, "JPEG: empty image");
  int pf = TJPF_BGR;
  int subsamp = TJSAMP_420;
  if (image.format == PixelFormat::kRgb24) pf = TJPF_RGB;
  if (image.format == PixelFormat::kGray8) {
    pf = TJPF_GRAY;
    subsamp = TJSAMP_GRAY;
  }
  unsigned char* buf = nullptr;
  unsigned long size = 0;  // NOLINT(google-runtime-int): TurboJPEG's type
  if (tjCompress2(static_cast<tjhandle>(handle_), image.pixels.data(), image.width, image.stride(), image.height, pf,
                  &buf, &size, subsamp, std::clamp(quality, 1, 100), TJFLAG_FASTDCT) != 0) {
    std::string msg = tjGetErrorStr2(static_cast<tjhandle>(handle_));
    tjFree(buf);
    return fail(ErrorCode::kRuntime, "JPEG encoding failed: " + msg);
  }
  std::vector<std::uint8_t> out(buf, buf + size);
  tjFree(buf);
  return out;
}

Result<void> write_jpeg(const std::string& path, const Image& image, int quality) {
  JpegEncoder enc;
  auto bytes = enc.encode(image, quality);
  if (!bytes) return fail(bytes.error());
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) return fail(ErrorCode::kBadInput, path + ": cannot open for writing");
  f.write(reinterpret_cast<const char*>(bytes->data()), static_cast<std::streamsize>(bytes->size()));
  if (!f) return fail(ErrorCode::kRuntime, path + ": write failed");
  return {};
}

}  // namespace vigil

#include "media/image_io.h"

#include <array>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <vector>

#include <opencv2/imgcodecs.hpp>

namespace vigil {
namespace {

// Random access to the first bytes of a file, for header parsing.
class HeaderReader {
 public:
  explicit HeaderReader(const std::string& path) : in_(path, std::ios::binary) {}
  bool is_open() const { return in_.is_open(); }

  // n bytes at offset, or nullopt when the file is shorter.
  std::optional<std::vector<std::uint8_t>> read(std::uint64_t offset, std::size_t n) {
    std::vector<std::uint8_t> out(n);
    in_.clear();
    in_.seekg(static_cast<std::streamoff>(offset));
    in_.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(n));
    if (static_cast<std::size_t>(in_.gcount()) != n) return std::nullopt;
    return out;
  }

 private:
  std::ifstream in_;
};

std::uint32_t be16(const std::uint8_t* p) { return (std::uint32_t{p[0]} << 8) | p[1]; }
std::uint32_t be32(const std::uint8_t* p) { return (be16(p) << 16) | be16(p + 2); }
std::uint32_t le16(const std::uint8_t* p) { return (std::uint32_t{p[1]} << 8) | p[0]; }
std::uint32_t le24(const std::uint8_t* p) { return (std::uint32_t{p[2]} << 16) | le16(p); }
std::uint32_t le32(const std::uint8_t* p) { return (le16(p + 2) << 16) | le16(p); }

using HeaderResult = Result<ImageHeader>;

HeaderResult truncated(const std::string& path, const char* format) {
  return fail(ErrorCode::kBadInput, path + ": not a readable image: truncated or invalid " + std::string(format) +
                                        " header");
}

HeaderResult png_header(HeaderReader& r, const std::string& path) {
  // signature (8), IHDR length (4), "IHDR", width BE32, height BE32
  auto b = r.read(0, 24);
  if (!b || std::memcmp(b->data() + 12, "IHDR", 4) != 0) return truncated(path, "PNG");
  return ImageHeader{ImageFormat::kPng, be32(b->data() + 16), be32(b->data() + 20)};
}

HeaderResult jpeg_header(HeaderReader& r, const std::string& path) {
  // Walk the marker segments after SOI up to the first frame header (SOFn).
  std::uint64_t pos = 2;
  for (int segments = 0; segments < 4096; ++segments) {
    auto m = r.read(pos, 2);
    if (!m || (*m)[0] != 0xFF) return truncated(path, "JPEG");
    const std::uint8_t marker = (*m)[1];
    if (marker == 0xFF) {  // fill byte
      ++pos;
      continue;
    }
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {  // no length
      pos += 2;
      continue;
    }
    if (marker == 0xD9 || marker == 0xDA) break;  // end of image / start of scan before any frame header
    auto len = r.read(pos + 2, 2);
    if (!len || be16(len->data()) < 2) return truncated(path, "JPEG");
    const bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (sof) {
      auto f = r.read(pos + 4, 5);  // precision, height BE16, width BE16
      if (!f) return truncated(path, "JPEG");
      return ImageHeader{ImageFormat::kJpeg, be16(f->data() + 3), be16(f->data() + 1)};
    }
    pos += 2 + be16(len->data());
  }
  return truncated(path, "JPEG");
}

HeaderResult bmp_header(HeaderReader& r, const std::string& path) {
  auto b = r.read(14, 12);
  if (!b) return truncated(path, "BMP");
  if (le32(b->data()) == 12)  // BITMAPCOREHEADER: 16-bit dimensions
    return ImageHeader{ImageFormat::kBmp, le16(b->data() + 4), le16(b->data() + 6)};
  const auto w = static_cast<std::int32_t>(le32(b->data() + 4));
  const auto h = static_cast<std::int32_t>(le32(b->data() + 8));  // negative: top-down rows
  return ImageHeader{ImageFormat::kBmp, w < 0 ? -std::int64_t{w} : w, h < 0 ? -std::int64_t{h} : h};
}

HeaderResult webp_header(HeaderReader& r, const std::string& path) {
  auto b = r.read(12, 18);  // first chunk: fourcc, size, then its payload
  if (!b) return truncated(path, "WebP");
  const std::uint8_t* p = b->data();
  if (std::memcmp(p, "VP8X", 4) == 0)  // canvas width-1, height-1 as 24-bit LE at payload + 4
    return ImageHeader{ImageFormat::kWebp, std::int64_t{le24(p + 12)} + 1, std::int64_t{le24(p + 15)} + 1};
  if (std::memcmp(p, "VP8L", 4) == 0) {  // signature 0x2f, then 14 bits width-1, 14 bits height-1
    if (p[8] != 0x2f) return truncated(path, "WebP");
    const std::uint32_t bits = le32(p + 9);
    return ImageHeader{ImageFormat::kWebp, std::int64_t{bits & 0x3FFF} + 1, std::int64_t{(bits >> 14) & 0x3FFF} + 1};
  }
  if (std::memcmp(p, "VP8 ", 4) == 0) {  // frame tag (3), start code 9d 01 2a, 14-bit width, height
    if (p[11] != 0x9d || p[12] != 0x01 || p[13] != 0x2a) return truncated(path, "WebP");
    return ImageHeader{ImageFormat::kWebp, le16(p + 14) & 0x3FFF, le16(p + 16) & 0x3FFF};
  }
  return truncated(path, "WebP");
}

HeaderResult tiff_header(HeaderReader& r, const std::string& path, bool little) {
  auto u16 = [little](const std::uint8_t* p) { return little ? le16(p) : be16(p); };
  auto u32 = [little](const std::uint8_t* p) { return little ? le32(p) : be32(p); };
  auto h = r.read(4, 4);
  if (!h) return truncated(path, "TIFF");
  const std::uint64_t ifd = u32(h->data());
  auto n = r.read(ifd, 2);
  if (!n) return truncated(path, "TIFF");
  const std::uint32_t entries = u16(n->data());
  auto e = r.read(ifd + 2, std::size_t{entries} * 12);
  if (!e) return truncated(path, "TIFF");
  std::int64_t width = -1;
  std::int64_t height = -1;
  for (std::uint32_t i = 0; i < entries; ++i) {
    const std::uint8_t* p = e->data() + std::size_t{i} * 12;
    const std::uint32_t tag = u16(p);
    const std::uint32_t type = u16(p + 2);  // 3 = SHORT, 4 = LONG
    const std::int64_t value = type == 3 ? u16(p + 8) : u32(p + 8);
    if (tag == 256) width = value;
    if (tag == 257) height = value;
  }
  if (width < 0 || height < 0) return truncated(path, "TIFF");
  return ImageHeader{ImageFormat::kTiff, width, height};
}

HeaderResult pnm_header(HeaderReader& r, const std::string& path) {
  // "P1".."P6", then whitespace-separated width and height; '#' starts a comment.
  std::uint64_t pos = 2;
  std::int64_t dims[2] = {-1, -1};
  for (auto& d : dims) {
    for (;;) {
      auto c = r.read(pos, 1);
      if (!c) return truncated(path, "PNM");
      if ((*c)[0] == '#') {
        while ((c = r.read(++pos, 1)) && (*c)[0] != '\n') {
        }
        continue;
      }
      if (!std::isspace((*c)[0])) break;
      ++pos;
    }
    std::int64_t v = 0;
    int digits = 0;
    for (std::optional<std::vector<std::uint8_t>> c; (c = r.read(pos, 1)) && std::isdigit((*c)[0]); ++pos) {
      if (++digits > 10) return truncated(path, "PNM");
      v = v * 10 + ((*c)[0] - '0');
    }
    if (digits == 0) return truncated(path, "PNM");
    d = v;
  }
  return ImageHeader{ImageFormat::kPnm, dims[0], dims[1]};
}

}  // namespace

Result<ImageHeader> read_image_header(const std::string& path) {
  HeaderReader r(path);
  if (!r.is_open()) return fail(ErrorCode::kBadInput, path + ": cannot open the file");
  auto magic = r.read(0, 12);
  if (!magic) magic = r.read(0, 2);
  if (!magic) return fail(ErrorCode::kBadInput, path + ": not a readable image (too short)");
  const std::uint8_t* m = magic->data();
  const std::size_t n = magic->size();
  static constexpr std::uint8_t kPngSig[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  Result<ImageHeader> h = fail(ErrorCode::kBadInput, "");
  if (n >= 8 && std::memcmp(m, kPngSig, 8) == 0) {
    h = png_header(r, path);
  } else if (m[0] == 0xFF && m[1] == 0xD8) {
    h = jpeg_header(r, path);
  } else if (m[0] == 'B' && m[1] == 'M') {
    h = bmp_header(r, path);
  } else if (n >= 12 && std::memcmp(m, "RIFF", 4) == 0 && std::memcmp(m + 8, "WEBP", 4) == 0) {
    h = webp_header(r, path);
  } else if (n >= 4 && (std::memcmp(m, "II*\0", 4) == 0 || std::memcmp(m, "MM\0*", 4) == 0)) {
    h = tiff_header(r, path, m[0] == 'I');
  } else if (m[0] == 'P' && m[1] >= '1' && m[1] <= '6') {
    h = pnm_header(r, path);
  } else {
    return fail(ErrorCode::kBadInput,
                path + ": not a readable image (JPEG, PNG, BMP, TIFF, WebP, PPM/PGM are read)");
  }
  if (h && (h->width <= 0 || h->height <= 0))
    return fail(ErrorCode::kBadInput, path + ": not a readable image: it declares " + std::to_string(h->width) + "x" +
                                          std::to_string(h->height) + " pixels");
  return h;
}

Result<Image> load_image(const std::string& path, std::int64_t max_pixels) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return fail(ErrorCode::kNotFound, path + ": no such file");
  if (std::filesystem::is_directory(path, ec)) return fail(ErrorCode::kBadInput, path + ": is a directory");
  if (std::filesystem::file_size(path, ec) == 0) return fail(ErrorCode::kBadInput, path + ": the file is empty");
  auto header = read_image_header(path);
  if (!header) return fail(header.error());
  if (header->width > max_pixels / header->height)  // width x height > max_pixels, without overflow
    return fail(ErrorCode::kBadInput, path + ": the image declares " + std::to_string(header->width) + "x" +
                                          std::to_string(header->height) + " pixels, more than the limit of " +
                                          std::to_string(max_pixels) + " pixels; refused before decoding");
  cv::Mat mat;
  try {
    mat = cv::imread(path, cv::IMREAD_COLOR);
  } catch (const cv::Exception& e) {
    return fail(ErrorCode::kBadInput, path + ": cannot decode the image: " + e.what());
  }
  if (mat.empty() || mat.type() != CV_8UC3)
    return fail(ErrorCode::kBadInput, path + ": not a readable image (JPEG, PNG, BMP, TIFF, WebP...)");
  // The header said one thing; what was decoded must not be larger (a file
  // whose later frame header differs, e.g. a multi-image TIFF).
  if (static_cast<std::int64_t>(mat.cols) * mat.rows > max_pixels)
    return fail(ErrorCode::kBadInput, path + ": the decoded image is larger than the limit of " +
                                          std::to_string(max_pixels) + " pixels");
  Image img(PixelFormat::kBgr24, mat.cols, mat.rows);
  for (int y = 0; y < mat.rows; ++y) std::memcpy(img.row(y), mat.ptr<std::uint8_t>(y), static_cast<std::size_t>(img.stride()));
  return img;
}

}  // namespace vigil

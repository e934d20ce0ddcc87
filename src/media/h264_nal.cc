#include "media/h264_nal.h"

namespace vigil {
namespace {

// Applies one NAL header byte; returns false when the access unit is malformed.
struct RefScan {
  bool slice = false;
  bool ref = false;
  void nal(std::uint8_t header) {
    const int type = header & 0x1F;
    if (type == 1 || type == 5) {
      slice = true;
      if ((header >> 5) & 0x3) ref = true;
    }
  }
  bool nonref() const { return slice && !ref; }
};

}  // namespace

int h264_length_size(const std::uint8_t* extradata, std::size_t size) {
  if (!extradata || size < 7 || extradata[0] != 1) return 0;
  const int n = (extradata[4] & 0x3) + 1;
  return n == 3 ? 0 : n;
}

bool h264_is_nonref(const std::uint8_t* data, std::size_t size, int length_size) {
  if (!data || size == 0) return false;
  RefScan scan;
  if (length_size > 0) {
    std::size_t pos = 0;
    const auto len_size = static_cast<std::size_t>(length_size);
    while (pos + len_size <= size) {
      std::size_t len = 0;
      for (std::size_t i = 0; i < len_size; ++i) len = (len << 8) | data[pos + i];
      pos += len_size;
      if (len == 0 || len > size - pos) return false;
      scan.nal(data[pos]);
      pos += len;
    }
    return pos == size && scan.nonref();
  }
  // Annex B: a NAL starts after each 00 00 01.
  bool any = false;
  for (std::size_t i = 0; i + 3 < size; ++i) {
    if (data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1) {
      scan.nal(data[i + 3]);
      any = true;
      i += 2;
    }
  }
  return any && scan.nonref();
}

}  // namespace vigil

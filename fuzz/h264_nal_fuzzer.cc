// libFuzzer harness: the H.264 NAL peeking of src/media/h264_nal.h.
// Input: byte 0 picks the packet framing (Annex B, or 1/2/4-byte length
// prefixes, or an invalid size), the rest is the packet; the whole input is
// also tried as avcC extradata. The results must be consistent: any
// answer is fine, reading outside the buffer (ASan) or UB (UBSan) is not.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "media/h264_nal.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const int length_size = vigil::h264_length_size(data, size);
  if (length_size != 0 && length_size != 1 && length_size != 2 && length_size != 4) std::abort();
  if (size == 0) return 0;
  static constexpr int kFramings[] = {0, 1, 2, 4, 3, 0};
  const int framing = kFramings[data[0] % 6];
  // A copy of exactly the packet bytes, so ASan sees any read past its end.
  const std::vector<std::uint8_t> packet(data + 1, data + size);
  (void)vigil::h264_is_nonref(packet.data(), packet.size(), framing);
  (void)vigil::h264_is_nonref(packet.data(), packet.size(), length_size);
  (void)vigil::h264_is_nonref(nullptr, packet.size(), framing);
  return 0;
}

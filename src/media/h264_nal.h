// H.264 bitstream peeking: whether a coded picture is a reference picture,
// read from its NAL unit headers without decoding (ITU-T H.264 7.3.1:
// forbidden_zero_bit(1) nal_ref_idc(2) nal_unit_type(5)).
// Pure functions; safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vigil {

// The NAL length-prefix size of an avcC extradata record (1, 2 or 4), or 0
// when the extradata is not avcC (then packets are Annex B, start codes).
int h264_length_size(const std::uint8_t* extradata, std::size_t size);

// True when the access unit holds at least one slice (NAL types 1 and 5) and
// every slice has nal_ref_idc == 0: no later picture can depend on it, so a
// decoder may skip it. length_size: 1, 2 or 4 for length-prefixed (avcC)
// packets, 0 for Annex B. Malformed data gives false (decode it).
bool h264_is_nonref(const std::uint8_t* data, std::size_t size, int length_size);

}  // namespace vigil

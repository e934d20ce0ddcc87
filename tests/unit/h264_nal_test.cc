#include "media/h264_nal.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <vector>

namespace vigil {
namespace {

using Bytes = std::vector<std::uint8_t>;

// NAL header bytes: forbidden_zero_bit(1) nal_ref_idc(2) nal_unit_type(5).
constexpr std::uint8_t nal_header(int ref_idc, int type) {
  return static_cast<std::uint8_t>(((ref_idc & 0x3) << 5) | (type & 0x1F));
}
constexpr std::uint8_t kSliceNonRef = nal_header(0, 1);  // 0x01
constexpr std::uint8_t kSliceRef2 = nal_header(2, 1);    // 0x41
constexpr std::uint8_t kIdr = nal_header(3, 5);          // 0x65
constexpr std::uint8_t kSei = nal_header(0, 6);          // 0x06
constexpr std::uint8_t kSps = nal_header(3, 7);          // 0x67
constexpr std::uint8_t kPps = nal_header(3, 8);          // 0x68

// One NAL unit: header + a few payload bytes (no 00 00 0x sequences).
Bytes nal(std::uint8_t header, std::size_t payload = 5) {
  Bytes b{header};
  for (std::size_t i = 0; i < payload; ++i) b.push_back(static_cast<std::uint8_t>(0x80 + i));
  return b;
}

// Length-prefixed (AVCC) access unit of the given NAL units.
Bytes avcc(std::initializer_list<Bytes> nals, int length_size = 4) {
  Bytes out;
  for (const Bytes& n : nals) {
    for (int i = length_size - 1; i >= 0; --i) out.push_back(static_cast<std::uint8_t>((n.size() >> (8 * i)) & 0xFF));
    out.insert(out.end(), n.begin(), n.end());
  }
  return out;
}

// Annex B access unit; each NAL preceded by a 3- or 4-byte start code.
Bytes annexb(std::initializer_list<Bytes> nals, bool four_byte) {
  Bytes out;
  for (const Bytes& n : nals) {
    if (four_byte) out.push_back(0);
    out.insert(out.end(), {0, 0, 1});
    out.insert(out.end(), n.begin(), n.end());
  }
  return out;
}

// A minimal avcC record (ISO/IEC 14496-15): version 1, profile, compat, level,
// 6 reserved bits + lengthSizeMinusOne, 3 reserved bits + numOfSPS, ...
Bytes avcc_record(int length_size_minus_one) {
  return {1, 0x64, 0x00, 0x1F, static_cast<std::uint8_t>(0xFC | length_size_minus_one), 0xE1, 0x00, 0x04,
          kSps, 0x64, 0x00, 0x1F, 0x01, 0x00, 0x02, kPps, 0xEB};
}

bool nonref(const Bytes& b, int length_size) { return h264_is_nonref(b.data(), b.size(), length_size); }

TEST(H264LengthSize, ReadsLengthSizeMinusOneFromAvcC) {
  const Bytes four = avcc_record(3), two = avcc_record(1), one = avcc_record(0);
  EXPECT_EQ(h264_length_size(four.data(), four.size()), 4);
  EXPECT_EQ(h264_length_size(two.data(), two.size()), 2);
  EXPECT_EQ(h264_length_size(one.data(), one.size()), 1);
}

TEST(H264LengthSize, AnnexBExtradataIsNotAvcC) {
  // Annex B extradata: SPS and PPS after start codes.
  const Bytes annex = annexb({nal(kSps, 8), nal(kPps, 3)}, true);
  EXPECT_EQ(h264_length_size(annex.data(), annex.size()), 0);
  const Bytes annex3 = annexb({nal(kSps, 8), nal(kPps, 3)}, false);
  EXPECT_EQ(h264_length_size(annex3.data(), annex3.size()), 0);
  // Version byte other than 1.
  Bytes v2 = avcc_record(3);
  v2[0] = 2;
  EXPECT_EQ(h264_length_size(v2.data(), v2.size()), 0);
}

TEST(H264LengthSize, ShortOrMissingDataIsNotAvcC) {
  const Bytes full = avcc_record(3);
  // The first 5 bytes hold the length size but a record is at least 7 bytes.
  EXPECT_EQ(h264_length_size(full.data(), 5), 0);
  EXPECT_EQ(h264_length_size(full.data(), 1), 0);
  EXPECT_EQ(h264_length_size(full.data(), 0), 0);
  EXPECT_EQ(h264_length_size(nullptr, 0), 0);
  EXPECT_EQ(h264_length_size(nullptr, 17), 0);
}

TEST(H264IsNonRef, AvccSingleSlice) {
  EXPECT_TRUE(nonref(avcc({nal(kSliceNonRef)}), 4));
  EXPECT_FALSE(nonref(avcc({nal(kSliceRef2)}), 4));
  EXPECT_FALSE(nonref(avcc({nal(nal_header(1, 1))}), 4));
  EXPECT_FALSE(nonref(avcc({nal(kIdr)}), 4));
}

TEST(H264IsNonRef, AvccOtherLengthSizes) {
  EXPECT_TRUE(nonref(avcc({nal(kSliceNonRef)}, 2), 2));
  EXPECT_FALSE(nonref(avcc({nal(kSliceRef2)}, 2), 2));
  EXPECT_TRUE(nonref(avcc({nal(kSliceNonRef)}, 1), 1));
  EXPECT_FALSE(nonref(avcc({nal(kSliceRef2)}, 1), 1));
}

TEST(H264IsNonRef, AvccSeiThenNonRefSliceIsNonRef) {
  EXPECT_TRUE(nonref(avcc({nal(kSei, 12), nal(kSliceNonRef)}), 4));
  // SEI / AUD in front of a reference slice: a reference picture.
  EXPECT_FALSE(nonref(avcc({nal(nal_header(0, 9), 1), nal(kSei, 12), nal(kSliceRef2)}), 4));
}

TEST(H264IsNonRef, AvccAnyReferenceSliceMakesItReference) {
  EXPECT_FALSE(nonref(avcc({nal(kSliceNonRef), nal(kSliceRef2)}), 4));
  EXPECT_FALSE(nonref(avcc({nal(kSliceRef2), nal(kSliceNonRef)}), 4));
  EXPECT_TRUE(nonref(avcc({nal(kSliceNonRef), nal(kSliceNonRef)}), 4));
}

TEST(H264IsNonRef, AvccWithoutSliceIsNotNonRef) {
  EXPECT_FALSE(nonref(avcc({nal(kSps, 8), nal(kPps, 3)}), 4));
  EXPECT_FALSE(nonref(avcc({nal(kSei, 4)}), 4));
}

TEST(H264IsNonRef, AvccMalformedIsNotNonRef) {
  // The length prefix claims more bytes than there are.
  Bytes past_end = avcc({nal(kSliceNonRef)});
  past_end[3] = static_cast<std::uint8_t>(past_end[3] + 1);
  EXPECT_FALSE(nonref(past_end, 4));
  Bytes huge = avcc({nal(kSliceNonRef)});
  huge[0] = 0xFF;
  EXPECT_FALSE(nonref(huge, 4));
  // A valid NAL followed by an incomplete length prefix.
  Bytes tail = avcc({nal(kSliceNonRef)});
  tail.push_back(0);
  tail.push_back(0);
  EXPECT_FALSE(nonref(tail, 4));
  // A zero-length NAL.
  Bytes zero = avcc({nal(kSliceNonRef)});
  zero.insert(zero.end(), {0, 0, 0, 0});
  EXPECT_FALSE(nonref(zero, 4));
  // Shorter than one length prefix.
  const Bytes three{0, 0, 1};
  EXPECT_FALSE(nonref(three, 4));
  // The same bytes read with the wrong length size do not parse.
  EXPECT_FALSE(nonref(avcc({nal(kSliceNonRef)}, 4), 2));
}

TEST(H264IsNonRef, AnnexBThreeAndFourByteStartCodes) {
  for (bool four : {false, true}) {
    SCOPED_TRACE(four ? "4-byte start codes" : "3-byte start codes");
    EXPECT_TRUE(nonref(annexb({nal(kSliceNonRef)}, four), 0));
    EXPECT_FALSE(nonref(annexb({nal(kSliceRef2)}, four), 0));
    EXPECT_FALSE(nonref(annexb({nal(kIdr)}, four), 0));
    EXPECT_TRUE(nonref(annexb({nal(kSei, 9), nal(kSliceNonRef)}, four), 0));
    EXPECT_FALSE(nonref(annexb({nal(kSliceNonRef), nal(kSliceRef2)}, four), 0));
    EXPECT_FALSE(nonref(annexb({nal(kSps, 8), nal(kPps, 3)}, four), 0));
    // A slice header in the last byte of the packet.
    EXPECT_TRUE(nonref(annexb({nal(kSliceNonRef, 0)}, four), 0));
    EXPECT_FALSE(nonref(annexb({nal(kSliceRef2, 0)}, four), 0));
  }
}

TEST(H264IsNonRef, AnnexBMixedStartCodes) {
  Bytes b = annexb({nal(kSei, 9)}, true);
  const Bytes ref = annexb({nal(kSliceRef2)}, false);
  b.insert(b.end(), ref.begin(), ref.end());
  EXPECT_FALSE(nonref(b, 0));
  Bytes c = annexb({nal(kSei, 9)}, true);
  const Bytes nr = annexb({nal(kSliceNonRef)}, false);
  c.insert(c.end(), nr.begin(), nr.end());
  EXPECT_TRUE(nonref(c, 0));
}

TEST(H264IsNonRef, AnnexBWithoutStartCodeIsNotNonRef) {
  // A bare NAL (no start code) read as Annex B: nothing found.
  EXPECT_FALSE(nonref(nal(kSliceNonRef), 0));
  // A start code with nothing after it.
  EXPECT_FALSE(nonref(Bytes{0, 0, 0, 1}, 0));
}

TEST(H264IsNonRef, EmptyOrNullIsNotNonRef) {
  const Bytes b = avcc({nal(kSliceNonRef)});
  EXPECT_FALSE(h264_is_nonref(nullptr, 0, 4));
  EXPECT_FALSE(h264_is_nonref(nullptr, 10, 4));
  EXPECT_FALSE(h264_is_nonref(nullptr, 10, 0));
  EXPECT_FALSE(h264_is_nonref(b.data(), 0, 4));
  EXPECT_FALSE(h264_is_nonref(b.data(), 0, 0));
  // Sanity: the same buffer with its size is non-reference.
  EXPECT_TRUE(h264_is_nonref(b.data(), b.size(), 4));
}

}  // namespace
}  // namespace vigil

// How a source is decoded: hardware acceleration and decoder frame skipping.
// The config chooses them (stream `hwaccel`, `skip_frame`), media/ applies
// them (VideoSource); they live here so that neither depends on the other.
// Pure data; no threads.
#pragma once

#include <string_view>

#include "core/enum_names.h"
#include "core/error.h"

namespace vigil {

enum class HwAccel { kAuto, kNone, kCuda, kVaapi };
enum class SkipFrame { kNone, kNonRef, kNonKey };

inline constexpr EnumName<HwAccel> kHwAccelNames[] = {
    {HwAccel::kAuto, "auto"}, {HwAccel::kNone, "none"}, {HwAccel::kCuda, "cuda"}, {HwAccel::kVaapi, "vaapi"}};
inline constexpr EnumName<SkipFrame> kSkipFrameNames[] = {
    {SkipFrame::kNone, "none"}, {SkipFrame::kNonRef, "nonref"}, {SkipFrame::kNonKey, "nonkey"}};

inline const char* to_string(HwAccel h) { return enum_name<HwAccel>(kHwAccelNames, h); }
inline const char* to_string(SkipFrame s) { return enum_name<SkipFrame>(kSkipFrameNames, s); }

// kInvalidArgument "'x' is not one of auto, none, cuda, vaapi".
Result<HwAccel> parse_hwaccel(std::string_view text);
Result<SkipFrame> parse_skip_frame(std::string_view text);

}  // namespace vigil

#include "core/decode_options.h"

#include <string>

namespace vigil {
namespace {

template <class E>
Result<E> parse_named(std::span<const EnumName<E>> names, std::string_view text) {
  if (auto v = parse_enum(names, text)) return *v;
  std::string message = "'";
  message.append(text).append("' is not one of ").append(enum_names_list(names));
  return fail(ErrorCode::kInvalidArgument, std::move(message));
}

}  // namespace

Result<HwAccel> parse_hwaccel(std::string_view text) { return parse_named<HwAccel>(kHwAccelNames, text); }
Result<SkipFrame> parse_skip_frame(std::string_view text) { return parse_named<SkipFrame>(kSkipFrameNames, text); }

}  // namespace vigil

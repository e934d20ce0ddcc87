// Base64 (RFC 4648, standard alphabet, '=' padding) for data URLs.
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil {

std::string base64_encode(const std::uint8_t* data, std::size_t size);
inline std::string base64_encode(const std::vector<std::uint8_t>& bytes) {
  return base64_encode(bytes.data(), bytes.size());
}

// Decodes padded or unpadded base64; nullopt when `text` has a character
// outside the alphabet, padding in the middle, or an impossible length.
std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text);

}  // namespace vigil

// Base64url without padding (RFC 4648 section 5): cursors travel in URLs.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace chronicle {

std::string base64url_encode(std::string_view bytes);

// The bytes, or nothing when `text` is not the canonical unpadded base64url of
// some byte string (a character outside the alphabet, an impossible length, or
// non-zero bits in the last character's unused low bits).
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace chronicle

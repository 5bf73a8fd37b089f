// A stand-in for HMAC-SHA-256 for the pure C++ tests (unit and fuzz), which
// run without a server: the real MAC is PostgreSQL's (src/pg/hmac_sha256.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/hmac.h"

namespace chronicle {

// A stand-in for HMAC-SHA-256, which is PostgreSQL's and runs in the server only:
// four FNV-1a lanes over the key and the message. Every step is a bijection of
// the lane's state, so any change of one key or message byte changes every lane,
// and a flipped tag byte can never go unnoticed. Not a MAC: these tests check the
// cursor's layout and checks, not the cryptography.
inline HmacSha256Tag stand_in_mac(std::string_view key, std::string_view message) {
  HmacSha256Tag tag{};
  for (std::size_t lane = 0; lane < 4; ++lane) {
    std::uint64_t state = 0xcbf29ce484222325ULL + lane;
    auto mix = [&state](std::string_view bytes) {
      for (unsigned char byte : bytes) state = (state ^ byte) * 0x100000001b3ULL;
    };
    mix(key);
    mix(std::string_view("\0", 1));
    mix(message);
    for (std::size_t i = 0; i < 8; ++i) tag[lane * 8 + i] = static_cast<std::uint8_t>(state >> (8 * i));
  }
  return tag;
}

}  // namespace chronicle

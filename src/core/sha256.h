// SHA-256 (FIPS 180-4) and HMAC-SHA-256 (RFC 2104), for signing pagination
// cursors. Pure C++: no PostgreSQL or OpenSSL dependency, tested against the
// standard test vectors in test/unit/sha256_test.cpp.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace chronicle {

using Sha256Digest = std::array<std::uint8_t, 32>;

class Sha256 {
 public:
  Sha256();
  Sha256& update(const void* data, std::size_t length);
  Sha256& update(std::string_view text) { return update(text.data(), text.size()); }
  Sha256Digest finish();  // the object is spent afterwards

 private:
  void compress(const std::uint8_t* block);
  std::array<std::uint32_t, 8> state_;
  std::array<std::uint8_t, 64> buffer_;
  std::size_t buffered_ = 0;
  std::uint64_t total_ = 0;  // bytes
};

// HMAC-SHA-256 of `message` under `key` (any length).
Sha256Digest hmac_sha256(std::string_view key, std::string_view message);

// Compares two byte strings in time that depends on their length only.
bool constant_time_equal(const std::uint8_t* a, const std::uint8_t* b, std::size_t length);

}  // namespace chronicle

// libFuzzer target for src/core/base64url.h: decoding accepts only canonical
// text (what encode produces), and encode/decode round-trip any bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/base64url.h"

namespace {
void require(bool ok) {
  if (!ok) std::abort();
}
bool in_alphabet(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  if (const auto bytes = chronicle::base64url_decode(input)) {
    require(chronicle::base64url_encode(*bytes) == input);
  }
  const std::string encoded = chronicle::base64url_encode(input);
  require(encoded.size() == (size * 4 + 2) / 3);
  for (char c : encoded) require(in_alphabet(c));
  const auto back = chronicle::base64url_decode(encoded);
  require(back && *back == input);
  return 0;
}

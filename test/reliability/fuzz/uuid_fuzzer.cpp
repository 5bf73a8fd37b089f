// libFuzzer target for src/core/uuid.h: parse_uuid must accept exactly what
// PostgreSQL's uuid_in accepts (compared with a transcription of its grammar:
// optional braces, 16 hex pairs, an optional '-' after every second pair but the
// last, nothing else) and yield the same bytes.
#include <array>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "core/uuid.h"

namespace {
void require(bool ok) {
  if (!ok) std::abort();
}
int hex(char c) {
  if (!std::isxdigit(static_cast<unsigned char>(c))) return -1;
  return std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : std::tolower(static_cast<unsigned char>(c)) - 'a' + 10;
}
// PostgreSQL's string_to_uuid, over a NUL-terminated string.
std::optional<chronicle::Uuid> reference(const char* src) {
  chronicle::Uuid out{};
  bool braces = false;
  if (src[0] == '{') {
    src++;
    braces = true;
  }
  for (int i = 0; i < 16; i++) {
    if (src[0] == '\0' || hex(src[0]) < 0 || src[1] == '\0' || hex(src[1]) < 0) return std::nullopt;
    out[i] = static_cast<uint8_t>(hex(src[0]) * 16 + hex(src[1]));
    src += 2;
    if (src[0] == '-' && (i % 2) == 1 && i < 15) src++;
  }
  if (braces) {
    if (*src != '}') return std::nullopt;
    src++;
  }
  if (*src != '\0') return std::nullopt;
  return out;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (text.find('\0') != std::string::npos) return 0;  // SQL text never holds NUL
  const auto ours = chronicle::parse_uuid(text);
  const auto theirs = reference(text.c_str());
  require(ours.has_value() == theirs.has_value());
  if (ours) require(*ours == *theirs);
  return 0;
}

#include "core/uuid.h"

namespace chronicle {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<Uuid> parse_uuid(std::string_view text) {
  Uuid uuid{};
  std::size_t i = 0;
  const bool braces = !text.empty() && text[0] == '{';
  if (braces) ++i;
  for (std::size_t byte = 0; byte < uuid.size(); ++byte) {
    if (i + 2 > text.size()) return std::nullopt;
    const int high = hex_value(text[i]);
    const int low = hex_value(text[i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    uuid[byte] = static_cast<std::uint8_t>(high * 16 + low);
    i += 2;
    // uuid_in allows a hyphen after every second byte (four digits), but not at the end.
    if (i < text.size() && text[i] == '-' && byte % 2 == 1 && byte < uuid.size() - 1) ++i;
  }
  if (braces) {
    if (i >= text.size() || text[i] != '}') return std::nullopt;
    ++i;
  }
  if (i != text.size()) return std::nullopt;
  return uuid;
}

}  // namespace chronicle

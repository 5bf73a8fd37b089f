// libFuzzer target for src/core/post_cursor.h (the keyset cursor codec).
// Two modes, chosen by the first byte:
// - any text is decoded under a fixed scope and secret: only chronicle::Error
//   22023 may come out, and a text that decodes must be the very cursor that
//   encode gives for its position (one text per position);
// - a position and scope built from the input are encoded; decoding gives the
//   position back, and the cursor with one character changed, or under another
//   user, status or secret, is refused with 22023.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "../../unit/stand_in_mac.h"
#include "core/error.h"
#include "core/post_cursor.h"

namespace {

using chronicle::cursor::Position;
using chronicle::cursor::Scope;

void require(bool ok) {
  if (!ok) std::abort();
}

const std::string kSecret = "0123456789abcdef0123456789abcdef";

bool same(const Position& a, const Position& b) {
  return a.published_at_null == b.published_at_null && a.published_at == b.published_at &&
         a.created_at == b.created_at && a.id == b.id;
}

bool refused(std::string_view text, const Scope& scope, std::string_view secret) {
  try {
    chronicle::cursor::decode(text, scope, secret, chronicle::stand_in_mac);
    return false;
  } catch (const chronicle::Error& e) {
    require(e.sqlstate() == "22023");
    return true;
  }
}

struct Reader {
  const uint8_t* data;
  size_t size;
  uint8_t byte() {
    if (size == 0) return 0;
    --size;
    return *data++;
  }
  std::int64_t int64() {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | byte();
    return static_cast<std::int64_t>(v);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  Scope fixed;
  fixed.user_id.fill(7);
  fixed.status = "published";
  if (data[0] % 2 == 0) {
    const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    try {
      const Position p = chronicle::cursor::decode(text, fixed, kSecret, chronicle::stand_in_mac);
      require(chronicle::cursor::encode(p, fixed, kSecret, chronicle::stand_in_mac) == text);
    } catch (const chronicle::Error& e) {
      require(e.sqlstate() == "22023");
    }
    return 0;
  }
  Reader r{data + 1, size - 1};
  Position p;
  p.published_at_null = r.byte() & 1;
  p.published_at = p.published_at_null ? 0 : r.int64();
  p.created_at = r.int64();
  for (auto& b : p.id) b = r.byte();
  Scope scope;
  for (auto& b : scope.user_id) b = r.byte();
  const uint8_t status_len = r.byte() % 24;
  std::string status;
  for (uint8_t i = 0; i < status_len; ++i) status.push_back(static_cast<char>(r.byte()));
  scope.all_statuses = status_len == 0;
  scope.status = status;
  const std::string cursor = chronicle::cursor::encode(p, scope, kSecret, chronicle::stand_in_mac);
  require(cursor.size() == chronicle::cursor::kCursorLength);
  require(same(chronicle::cursor::decode(cursor, scope, kSecret, chronicle::stand_in_mac), p));
  // One character changed: refused (another valid base64url character, or not).
  std::string altered = cursor;
  const size_t at = r.byte() % altered.size();
  const char replacement = static_cast<char>(r.byte());
  if (replacement != altered[at]) {
    altered[at] = replacement;
    require(refused(altered, scope, kSecret));
  }
  Scope other_user = scope;
  other_user.user_id[r.byte() % 16] ^= static_cast<uint8_t>(1 + r.byte() % 255);
  require(refused(cursor, other_user, kSecret));
  Scope other_status = scope;
  const std::string widened = status + "x";
  other_status.all_statuses = !scope.all_statuses;
  if (!scope.all_statuses) other_status.status = {};
  require(refused(cursor, other_status, kSecret));
  other_status.all_statuses = false;
  other_status.status = widened;
  require(refused(cursor, other_status, kSecret));
  require(refused(cursor, scope, kSecret + "!"));
  return 0;
}

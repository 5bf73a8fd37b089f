// HMAC-SHA-256 by PostgreSQL's own cryptography (common/hmac.h, in the server
// since 14): OpenSSL's HMAC where the server is built with OpenSSL, as Debian's
// is. It signs pagination cursors (core/post_cursor.h).
#pragma once

#include <string_view>

#include "core/hmac.h"

namespace chronicle::pg {

// HMAC-SHA-256 of `message` under `key`. A failure (out of memory, an OpenSSL
// error) throws a PgError carrying PostgreSQL's ERROR.
HmacSha256Tag hmac_sha256(std::string_view key, std::string_view message);

}  // namespace chronicle::pg

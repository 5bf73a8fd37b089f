#include "pg/hmac_sha256.h"

#include "pg/boundary.h"

extern "C" {
#include "common/hmac.h"
}

namespace chronicle::pg {

HmacSha256Tag hmac_sha256(std::string_view key, std::string_view message) {
  HmacSha256Tag tag{};
  // pg_hmac_create registers the context with the current resource owner and may
  // raise out of memory, so the whole sequence runs under pg_call; it owns no C++
  // object, and the resource owner frees the context if an ERROR cuts it short.
  pg_call([&] {
    pg_hmac_ctx* context = pg_hmac_create(PG_SHA256);
    if (context == nullptr) ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
    if (pg_hmac_init(context, reinterpret_cast<const uint8*>(key.data()), key.size()) < 0 ||
        pg_hmac_update(context, reinterpret_cast<const uint8*>(message.data()), message.size()) < 0 ||
        pg_hmac_final(context, tag.data(), tag.size()) < 0) {
      // The reason is a static string (PostgreSQL's or OpenSSL's), still valid after the free.
      const char* reason = pg_hmac_error(context);
      pg_hmac_free(context);
      ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("could not compute HMAC-SHA-256: %s", reason)));
    }
    pg_hmac_free(context);
  });
  return tag;
}

}  // namespace chronicle::pg

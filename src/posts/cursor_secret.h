// The per-database secret that signs keyset cursors (table cursor_secret,
// readable by its owner only).
#pragma once

#include "pg/postgres_headers.h"

#include <string>

#include "pg/spi.h"

namespace chronicle::posts {

// The secret, read once per backend (as the table's owner) and kept; read again
// when the table is not the one read before (extension dropped and recreated).
const std::string& cursor_secret(pg::SpiSession& spi, Oid schema);

}  // namespace chronicle::posts

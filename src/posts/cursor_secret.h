// The per-database secret that signs keyset cursors (table cursor_secret,
// readable by its owner only).
#pragma once

#include "pg/postgres_headers.h"

#include <string>

#include "pg/spi.h"

namespace chronicle::posts {

// The secret, read as the table's owner once per transaction: a rotation
// committed by another session takes effect here at the next transaction.
const std::string& cursor_secret(pg::SpiSession& spi, Oid schema);

}  // namespace chronicle::posts

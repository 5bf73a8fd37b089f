#pragma once
// How the audit writer compresses row images (old_data, new_data) as it forms
// the audit row. See image_compression.cpp for why it does not leave this to TOAST.

#include "pg/postgres_headers.h"

extern "C" {
#include "utils/relcache.h"
}

namespace chronicle::audit {

// The method for audit_logs column attno (0-based): the column's own, else lz4
// when the server has it, else default_toast_compression; InvalidCompressionMethod
// when the column's storage is PLAIN or EXTERNAL (never compressed).
char image_compression(Relation rel, int attno);

// The image compressed with method, or unchanged when it is small, already
// compressed or external, or when compressing saves nothing. Allocated in the
// current memory context.
Datum compress_image(Datum image, char method);

}  // namespace chronicle::audit

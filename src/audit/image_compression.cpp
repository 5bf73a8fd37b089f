#include "audit/image_compression.h"

extern "C" {
#include "access/toast_compression.h"
#include "access/toast_internals.h"
#include "catalog/pg_type_d.h"
#include "utils/rel.h"
}

#ifdef USE_LZ4
#include <lz4.h>
#endif

// Row images are compressed here, when the row is formed, rather than left to
// TOAST: PostgreSQL compresses a value only once its whole row exceeds about
// 2 kB, and an audit row of two images of a typical row (0.5-2 kB of JSON with
// repeated keys) stays below that, so it would be written (heap and WAL) in full.
// A column whose storage the DBA set to PLAIN or EXTERNAL is never compressed;
// one with a compression method set (ALTER COLUMN ... SET COMPRESSION) uses it;
// otherwise lz4 when the server has it (fast enough to cost about a microsecond a
// row), else the server's default_toast_compression.

namespace chronicle::audit {
namespace {

constexpr int32 kCompressImagesFrom = 128;  // bytes of JSON; below it nothing is gained

#ifdef USE_LZ4
// Kept only when it saves more than 2 bytes, as toast_compress_datum decides:
// the compressed form may need up to 3 bytes of alignment that a short
// uncompressed one does not.
bool saves_space(int32 compressed_size, int32 raw_size) { return compressed_size < raw_size - 2; }

// toast_compress_datum's lz4 path (LZ4_compress_default) first clears a 16 kB
// hash table on the stack: about 16,000 instructions an image, more than
// compressing a 600-byte image takes. This backend's stream keeps its table:
// LZ4_resetStream_fast drops the history and moves the stream's offset past
// every entry in the table, so no stale entry can match and each image is an
// independent block, in the varlena format PostgreSQL decompresses as its own.
// From 4 kB on, the clear costs less than the compression, and PostgreSQL's call
// (a larger table for inputs under 64 kB) finds more matches: it is used there.
constexpr int32 kFastLz4Below = 4096;

LZ4_stream_t* lz4_stream() {
  static LZ4_stream_t stream;
  static bool initialized = false;
  if (!initialized) {
    LZ4_initStream(&stream, sizeof(stream));
    initialized = true;
  }
  LZ4_resetStream_fast(&stream);
  return &stream;
}

// value has a 4-byte header (not extended); raw_size is its data's length.
Datum compress_lz4(const struct varlena* value, int32 raw_size) {
  const int bound = LZ4_compressBound(raw_size);
  auto* out = static_cast<struct varlena*>(palloc(bound + VARHDRSZ_COMPRESSED));
  const int size = LZ4_compress_fast_continue(lz4_stream(), VARDATA(value),
                                              reinterpret_cast<char*>(out) + VARHDRSZ_COMPRESSED, raw_size, bound, 1);
  if (size <= 0 || !saves_space(static_cast<int32>(size + VARHDRSZ_COMPRESSED), raw_size)) {
    pfree(out);
    return 0;
  }
  SET_VARSIZE_COMPRESSED(out, size + VARHDRSZ_COMPRESSED);
  TOAST_COMPRESS_SET_SIZE_AND_COMPRESS_METHOD(out, raw_size, TOAST_LZ4_COMPRESSION_ID);
  return PointerGetDatum(out);
}
#endif

}  // namespace

char image_compression(Relation rel, int attno) {
  Form_pg_attribute attr = TupleDescAttr(RelationGetDescr(rel), attno);
  if (attr->attstorage != TYPSTORAGE_EXTENDED && attr->attstorage != TYPSTORAGE_MAIN) return InvalidCompressionMethod;
  if (CompressionMethodIsValid(attr->attcompression)) return attr->attcompression;
#ifdef USE_LZ4
  return TOAST_LZ4_COMPRESSION;
#else
  return static_cast<char>(default_toast_compression);
#endif
}

Datum compress_image(Datum image, char method) {
  if (method == InvalidCompressionMethod) return image;
  const auto* value = reinterpret_cast<const struct varlena*>(DatumGetPointer(image));
  if (VARATT_IS_EXTENDED(value)) return image;
  const int32 raw_size = static_cast<int32>(VARSIZE(value) - VARHDRSZ);
  if (raw_size < kCompressImagesFrom) return image;
#ifdef USE_LZ4
  const bool fast_lz4 = method == TOAST_LZ4_COMPRESSION && raw_size < kFastLz4Below;
  Datum compressed = fast_lz4 ? compress_lz4(value, raw_size) : toast_compress_datum(image, method);
#else
  Datum compressed = toast_compress_datum(image, method);
#endif
  return compressed != 0 ? compressed : image;
}

}  // namespace chronicle::audit

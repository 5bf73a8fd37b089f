#include "pg/catalog.h"

namespace chronicle::pg {

AttrNumber live_column(TupleDesc desc, const char* name) {
  for (int i = 0; i < desc->natts; ++i) {
    Form_pg_attribute attr = TupleDescAttr(desc, i);
    if (!attr->attisdropped && std::strcmp(NameStr(attr->attname), name) == 0) return attr->attnum;
  }
  return InvalidAttrNumber;
}

}  // namespace chronicle::pg

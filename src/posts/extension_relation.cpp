#include "posts/extension_relation.h"

extern "C" {
#include "utils/lsyscache.h"
}

namespace chronicle::posts {

Oid extension_relation(Oid schema, const char* name) {
  const Oid relation = get_relname_relid(name, schema);
  if (!OidIsValid(relation)) {
    ereport(ERROR,
            (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("relation \"%s\" of extension chronicle does not exist", name),
             errhint("The extension's objects are incomplete: reinstall or update the extension.")));
  }
  return relation;
}

}  // namespace chronicle::posts

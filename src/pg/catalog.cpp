#include "pg/catalog.h"

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/skey.h"
#include "access/table.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/pg_class.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_proc.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
}

namespace chronicle::pg {

Oid extension_schema(Oid function) { return get_func_namespace(function); }

Oid extension_of(Oid function) { return getExtensionOfObject(ProcedureRelationId, function); }

Oid extension_owner(Oid function) {
  const Oid extension = extension_of(function);
  Oid owner = InvalidOid;
  if (OidIsValid(extension)) {
    Relation catalog = table_open(ExtensionRelationId, AccessShareLock);
    ScanKeyData key;
    ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(extension));
    SysScanDesc scan = systable_beginscan(catalog, ExtensionOidIndexId, true, nullptr, 1, &key);
    HeapTuple tuple = systable_getnext(scan);
    if (HeapTupleIsValid(tuple)) owner = reinterpret_cast<Form_pg_extension>(GETSTRUCT(tuple))->extowner;
    systable_endscan(scan);
    table_close(catalog, AccessShareLock);
  }
  if (!OidIsValid(owner)) {
    HeapTuple tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(function));
    if (!HeapTupleIsValid(tuple)) {
      ereport(ERROR,
              (errcode(ERRCODE_INTERNAL_ERROR), errmsg_internal("cache lookup failed for function %u", function)));
    }
    owner = reinterpret_cast<Form_pg_proc>(GETSTRUCT(tuple))->proowner;
    ReleaseSysCache(tuple);
  }
  return owner;
}

Oid find_extension_relation(Oid schema, const char* name) { return get_relname_relid(name, schema); }

Oid extension_relation(Oid schema, const char* name) {
  const Oid relation = find_extension_relation(schema, name);
  if (!OidIsValid(relation)) {
    ereport(ERROR,
            (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("relation \"%s\" of extension chronicle does not exist", name),
             errhint("The extension's objects are incomplete: reinstall or update the extension.")));
  }
  return relation;
}

Oid relation_owner(Oid relation) {
  HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relation));
  if (!HeapTupleIsValid(tuple)) {
    ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg_internal("cache lookup failed for relation %u", relation)));
  }
  const Oid owner = reinterpret_cast<Form_pg_class>(GETSTRUCT(tuple))->relowner;
  ReleaseSysCache(tuple);
  return owner;
}

AttrNumber live_column(TupleDesc desc, const char* name) {
  for (int i = 0; i < desc->natts; ++i) {
    Form_pg_attribute attr = TupleDescAttr(desc, i);
    if (!attr->attisdropped && std::strcmp(NameStr(attr->attname), name) == 0) return attr->attnum;
  }
  return InvalidAttrNumber;
}

}  // namespace chronicle::pg

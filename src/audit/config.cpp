#include "audit/audit.h"

#include <algorithm>
#include <string>
#include <vector>

#include "core/options.h"
#include "pg/boundary.h"
#include "pg/catalog.h"
#include "pg/trigger.h"

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/skey.h"
#include "access/table.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type_d.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/syscache.h"
#include "utils/typcache.h"
}

namespace chronicle::audit {
namespace {

// Mirrors jsonb_categorize_type (PostgreSQL 15, src/backend/utils/adt/jsonb.c)
// for the built-in types handled here; every other type goes to to_jsonb, so a
// type this list does not know is still converted exactly as to_jsonb does.
JsonKind kind_of(Oid base) {
  switch (base) {
    case BOOLOID:
      return JsonKind::Bool;
    case INT2OID:
    case INT4OID:
    case INT8OID:
      return JsonKind::Integer;
    case NUMERICOID:
      return JsonKind::Numeric;
    case FLOAT4OID:
    case FLOAT8OID:
      return JsonKind::Float;
    case DATEOID:
    case TIMESTAMPOID:
    case TIMESTAMPTZOID:
      return JsonKind::DateTime;
    case TEXTOID:
    case VARCHAROID:
    case BPCHAROID:
      return JsonKind::Text;
    case JSONOID:
    case JSONBOID:
      return JsonKind::ToJsonb;
    default:
      break;
  }
  // Arrays (and int2vector/oidvector, which have an element type) and
  // composites are nested structures; types created by users may have a cast to
  // json that to_jsonb uses. All of those go to to_jsonb.
  if (OidIsValid(get_element_type(base)) || type_is_rowtype(base) || base >= FirstNormalObjectId) {
    return JsonKind::ToJsonb;
  }
  return JsonKind::Output;
}

char* copy_string(MemoryContext context, const char* s) { return MemoryContextStrdup(context, s); }

void resolve_column(AuditColumn& column, Form_pg_attribute attr, MemoryContext context) {
  column.attnum = attr->attnum;
  column.name = copy_string(context, NameStr(attr->attname));
  MemoryContext old = MemoryContextSwitchTo(context);
  column.name_text = PointerGetDatum(cstring_to_text(column.name));
  MemoryContextSwitchTo(old);
  column.base_type = getBaseType(attr->atttypid);
  column.kind = kind_of(column.base_type);
  column.ignored = false;
  column.typbyval = attr->attbyval;
  column.typlen = attr->attlen;
  column.collation = attr->attcollation;

  const Oid eq = pg::equality_operator(attr->atttypid, column.base_type);
  if (OidIsValid(eq)) {
    column.equality = Equality::Operator;
    fmgr_info_cxt(get_opcode(eq), &column.equal, context);
  } else {
    column.equality = Equality::Binary;
  }

  if (column.kind == JsonKind::Float || column.kind == JsonKind::Numeric || column.kind == JsonKind::Output) {
    Oid output_function = InvalidOid;
    bool varlena = false;
    getTypeOutputInfo(column.base_type, &output_function, &varlena);
    fmgr_info_cxt(output_function, &column.output, context);
  }
  if (column.kind == JsonKind::ToJsonb) {
    // to_jsonb(anyelement) learns its argument's type from the call expression
    // (get_fn_expr_argtype): give it one, with a placeholder of the column's type.
    fmgr_info_cxt(F_TO_JSONB, &column.to_jsonb, context);
    old = MemoryContextSwitchTo(context);
    Node* argument = reinterpret_cast<Node*>(makeNullConst(attr->atttypid, attr->atttypmod, attr->attcollation));
    column.to_jsonb.fn_expr = reinterpret_cast<Node*>(
        makeFuncExpr(F_TO_JSONB, JSONBOID, list_make1(argument), InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL));
    MemoryContextSwitchTo(old);
  }
}

// The uuid column `name`, if the table has a live one of exactly that type.
AttrNumber default_uuid_column(TupleDesc desc, const char* name) {
  const AttrNumber attnum = pg::live_column(desc, name);
  if (attnum == InvalidAttrNumber || TupleDescAttr(desc, attnum - 1)->atttypid != UUIDOID) return InvalidAttrNumber;
  return attnum;
}

}  // namespace

AuditConfig* build_audit_config(TriggerData* trigger, MemoryContext context, Oid function_oid) {
  Relation rel = trigger->tg_relation;
  TupleDesc desc = RelationGetDescr(rel);
  const std::string description = pg::describe_trigger(trigger);

  std::vector<std::string> args;
  args.reserve(trigger->tg_trigger->tgnargs);
  for (int i = 0; i < trigger->tg_trigger->tgnargs; ++i) args.emplace_back(trigger->tg_trigger->tgargs[i]);
  const std::vector<Option> options = parse_options(args, kAuditOptionKeys, description);

  auto* config = static_cast<AuditConfig*>(
      pg::pg_call([&] { return MemoryContextAllocZero(context, sizeof(AuditConfig)); }));
  config->natts = desc->natts;
  config->description = pg::pg_call([&] { return copy_string(context, description.c_str()); });
  config->table_name = pg::pg_call([&] { return copy_string(context, RelationGetRelationName(rel)); });

  int live = 0;
  for (int i = 0; i < desc->natts; ++i) live += TupleDescAttr(desc, i)->attisdropped ? 0 : 1;
  config->column_count = live;
  config->columns = static_cast<AuditColumn*>(
      pg::pg_call([&] { return MemoryContextAllocZero(context, sizeof(AuditColumn) * std::max(live, 1)); }));
  int next = 0;
  for (int i = 0; i < desc->natts; ++i) {
    Form_pg_attribute attr = TupleDescAttr(desc, i);
    if (attr->attisdropped) continue;
    AuditColumn& column = config->columns[next++];
    pg::pg_call([&] { resolve_column(column, attr, context); });
  }

  config->record_id = default_uuid_column(desc, "id");
  config->user_id = default_uuid_column(desc, "user_id");
  for (const Option& option : options) {
    if (option.key == "ignore") {
      for (const std::string& name : split_identifier_list(option.value, description)) {
        const AttrNumber attnum = pg::find_column(trigger, name.c_str());
        for (int i = 0; i < config->column_count; ++i) {
          if (config->columns[i].attnum == attnum) config->columns[i].ignored = true;
        }
      }
    } else if (option.key == "record_id") {
      const std::vector<std::string> names = split_identifier_list(option.value, description);
      if (names.size() != 1) {
        throw Error(sqlstate::kInvalidParameterValue,
                    fmt::format("invalid option for {}: record_id names one column, not {}", description,
                                names.size()));
      }
      config->record_id = pg::find_column(trigger, names[0].c_str());
      pg::require_column_type(trigger, config->record_id, {UUIDOID}, "uuid");
    } else if (option.key == pg::kNotAnEditKey) {
      config->not_an_edit = pg::build_not_an_edit(trigger, option.value, context);
    }
  }

  // The primary key, for statement mode's pairing of old and new rows.
  pg::pg_call([&] {
    Bitmapset* keys = RelationGetIndexAttrBitmap(rel, INDEX_ATTR_BITMAP_PRIMARY_KEY);
    config->primary_key_count = bms_num_members(keys);
    config->primary_key = static_cast<AttrNumber*>(
        MemoryContextAllocZero(context, sizeof(AttrNumber) * (config->primary_key_count + 1)));
    int member = -1;
    int n = 0;
    while ((member = bms_next_member(keys, member)) >= 0) {
      config->primary_key[n++] = static_cast<AttrNumber>(member + FirstLowInvalidHeapAttributeNumber);
    }
  });

  // audit_logs lives in the schema of the trigger function: the extension's. The
  // table itself is resolved by name at each write (a rotation is followed).
  const Oid schema = pg::pg_call([&] { return pg::extension_schema(function_oid); });
  config->audit_schema = schema;
  if (!OidIsValid(pg::pg_call([&] { return pg::find_extension_relation(schema, "audit_logs"); }))) {
    throw Error(sqlstate::kUndefinedTable,
                fmt::format("relation \"audit_logs\" does not exist in the schema of {}", description));
  }
  config->extension_owner = pg::pg_call([&] { return pg::extension_owner(function_oid); });
  return config;
}

}  // namespace chronicle::audit

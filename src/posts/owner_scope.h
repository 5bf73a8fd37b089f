// Runs a block as the owner of one of the extension's private tables.
//
// post_counts and cursor_secret are readable by their owner only: application
// roles must neither forge nor read them (the cursor secret especially). The
// posts API itself is SECURITY INVOKER (it reads posts with the caller's
// privileges), so for its one fixed, schema-qualified query on such a table it
// switches the current user to the table's owner, the way SECURITY DEFINER
// would, with SECURITY_LOCAL_USERID_CHANGE so that nothing can SET ROLE back.
// The destructor restores the caller; an ERROR restores it through the
// (sub)transaction abort.
#pragma once

#include "pg/postgres_headers.h"

namespace chronicle::posts {

class OwnerScope {
 public:
  // relation: a table of `schema`, named `table`; 42P01 when it does not exist.
  OwnerScope(Oid schema, const char* table);
  ~OwnerScope();
  OwnerScope(const OwnerScope&) = delete;
  OwnerScope& operator=(const OwnerScope&) = delete;

 private:
  Oid saved_user_;
  int saved_context_;
};

}  // namespace chronicle::posts

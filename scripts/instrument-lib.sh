# Shared by scripts/sanitize, scripts/coverage and scripts/valgrind-regress
# (sourced, never run): a private PostgreSQL installation per mode, the build
# and install of an instrumented library, and the suites run against a cluster.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo -n "$@"; fi; }
as_server_user() { if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# use_private_install NAME: a copy of the PostgreSQL installation in build/pg-NAME,
# so an instrumented chronicle.so never replaces the one of a normal install.
use_private_install() {
  local dir="$ROOT/build/pg-$1"
  mkdir -p "$ROOT/build"
  eval "$("$ROOT/scripts/pg-sandbox" "$dir")"
  # The server runs as postgres and reads the library from here.
  [[ $(id -u) -eq 0 ]] && chmod 755 "$ROOT/build"
  return 0
}

# build_and_install VAR=1...: the extension and the boundary test module, built
# and installed with the same make variables (a different set rebuilds).
build_and_install() {
  echo "== build ($*)"
  make -s -C "$ROOT" -j2 "$@" || return 1
  make -s -C "$ROOT/test/boundary" "$@" >/dev/null || return 1
  make -s -C "$ROOT" install "$@" >/dev/null || return 1
  make -s -C "$ROOT/test/boundary" install "$@" >/dev/null || return 1
}

passed=0
failed=0
failed_names=()
run_suite() {
  local name=$1; shift
  echo "== $name"
  local start=$SECONDS
  if "$@"; then
    passed=$((passed + 1)); echo "-- $name: passed ($((SECONDS - start)) s)"
  else
    failed=$((failed + 1)); failed_names+=("$name"); echo "-- $name: FAILED ($((SECONDS - start)) s)"
  fi
}

# The suites, each given the make variables of the build (installcheck parses the
# Makefile again and must see the same mode).
suite_regress() {
  if ! make -s -C "$ROOT" installcheck "$@"; then
    [[ -f "$ROOT/build/regress/regression.diffs" ]] && head -200 "$ROOT/build/regress/regression.diffs"
    return 1
  fi
}
suite_pgtap() {
  psql -qX -c "DROP DATABASE IF EXISTS chronicle_tap" -c "CREATE DATABASE chronicle_tap" >/dev/null &&
    pg_prove -d chronicle_tap --failures "$ROOT"/test/pgtap/*.sql
}
suite_upgrade() { "$ROOT/test/upgrade/run"; }
suite_reliability() { "$ROOT/test/reliability/run" "$@"; }

# fast_stop DIR: stop the cluster in DIR with -m fast and keep DIR (its server log
# is read afterwards); scripts/cluster stop then only removes DIR.
fast_stop() {
  [[ -f "$1/data/postmaster.pid" ]] || return 0
  as_server_user "$PGBIN/pg_ctl" -D "$1/data" -m fast -w -t 120 stop >/dev/null
}

# Cursor key rotation (README.md, "Posts"): an UPDATE of cursor_secret committed
# by one session takes effect in every other session at its next transaction,
# also in a pooled session that has signed and checked cursors with the old key
# (the per-backend cache of the key lives one transaction at most).
#
# Session A is one psql process kept open on a fifo (one backend throughout, as
# a pool's connection); session B is a separate psql that rotates the key.
source "$REL/lib.sh"
db=$(db_name cursor_rotation)
dir="$WORK/cursor_rotation"
mkdir -p "$dir"
a_pid=
cleanup_rotation() {
  [[ -n "$a_pid" ]] && { exec 7>&-; wait "$a_pid" 2>/dev/null; }
  drop_db "$db"
}
trap cleanup_rotation EXIT
fresh_db "$db" || { fail cursor_rotation.setup "cannot create $db"; exit 0; }
user=00000000-0000-4000-8000-0000000000c1
q -d "$db" >/dev/null <<SQL
INSERT INTO users (id, email, name, password_hash) VALUES ('$user', 'rot@example.com', 'Rot', 'x');
INSERT INTO posts (user_id, title, content, status)
SELECT '$user', 'p' || i, 'c', 'published' FROM generate_series(1, 9) i;
SQL

# Session A: statements go in through fd 7; each step ends with \echo of a mark
# that a_step waits for. Errors are printed as SQLSTATE lines, nothing stops.
mkfifo "$dir/a.in"
psql -X -qAt -v VERBOSITY=sqlstate -d "$db" <"$dir/a.in" >"$dir/a.out" 2>&1 &
a_pid=$!
exec 7>"$dir/a.in"
echo 0 >"$dir/step"
a_step() {  # a_step SQL...: runs it in session A, prints what it printed
  # (called in $(...) subshells: the step number is kept in a file)
  local step before
  step=$(($(cat "$dir/step") + 1))
  echo "$step" >"$dir/step"
  before=$(wc -l <"$dir/a.out")
  printf '%s\n\\echo mark-%d\n' "$*" "$step" >&7
  local tries=0
  until grep -qx "mark-$step" "$dir/a.out"; do
    sleep 0.1
    tries=$((tries + 1))
    [[ $tries -lt 300 ]] || { echo "timeout"; return 1; }
  done
  tail -n +"$((before + 1))" "$dir/a.out" | grep -v '^mark-'
}
page="get_user_posts_keyset('$user', 'published', 3"

# A signs a cursor and checks it (the key is now in A's cache).
first_pid=$(a_step "SELECT pg_backend_pid();")
old_cursor=$(a_step "SELECT next_cursor FROM $page) LIMIT 1;")
check_eq cursor_rotation.old_key_accepted_before 3 "$(a_step "SELECT count(*) FROM $page, '$old_cursor');")"

# B rotates the key and commits.
q -d "$db" -c "UPDATE cursor_secret SET secret = decode(md5(random()::text) || md5(random()::text), 'hex')" \
  >/dev/null || fail cursor_rotation.rotate "UPDATE cursor_secret failed"

# A's next transaction: the old cursor is refused, a new one is signed with the
# new key (B, another session, accepts it), and A is still the same backend.
check_eq cursor_rotation.old_cursor_refused_next_transaction 22023 \
  "$(a_step "SELECT count(*) FROM $page, '$old_cursor');" | sed -n 's/.*ERROR:  \([0-9A-Z]\{5\}\).*/\1/p')"
new_cursor=$(a_step "SELECT next_cursor FROM $page) LIMIT 1;")
check_eq cursor_rotation.new_cursor_valid_elsewhere 3 \
  "$(q -d "$db" -c "SELECT count(*) FROM $page, '$new_cursor')")"
check_eq cursor_rotation.same_session "$first_pid" "$(a_step "SELECT pg_backend_pid();")"

# A transaction that started before the rotation keeps the key it read: the
# rotation takes effect at the next transaction, not in the middle of one.
a_step "BEGIN; SELECT count(*) FROM $page, '$new_cursor');" >/dev/null
q -d "$db" -c "UPDATE cursor_secret SET secret = decode(md5(random()::text) || md5(random()::text), 'hex')" >/dev/null
check_eq cursor_rotation.key_stable_within_transaction 3 "$(a_step "SELECT count(*) FROM $page, '$new_cursor');")"
a_step "COMMIT;" >/dev/null
check_eq cursor_rotation.second_rotation_next_transaction 22023 \
  "$(a_step "SELECT count(*) FROM $page, '$new_cursor');" | sed -n 's/.*ERROR:  \([0-9A-Z]\{5\}\).*/\1/p')"

# The audit row's ip_address (README.md, "Settings": chronicle.client_ip when set, else
# inet_client_addr()). Every other suite connects over the Unix socket, where
# inet_client_addr() is NULL, so a fallback that always wrote NULL would pass
# them all. Here the sessions connect over TCP to 127.0.0.1 (scripts/cluster
# listens there, pg_hba trusts it): without the setting the row holds
# 127.0.0.1; with it, the setting; reset or set empty, 127.0.0.1 again in the
# same session (the address is cached per session, the setting is not).
source "$REL/lib.sh"
db=$(db_name client_address)
trap 'drop_db $db' EXIT
fresh_db "$db" || { fail client_address.setup "cannot create $db"; exit 0; }
export PGDATABASE=$db
U=00000000-0000-0000-0000-0000000000d1
q -c "INSERT INTO users (id, email, name, password_hash) VALUES ('$U', 'd1@example.com', 'Dee', 'h')" >/dev/null ||
  { fail client_address.setup "cannot insert the user"; exit 0; }

# tcp: psql over TCP to the server under test.
tcp() { PGHOST=127.0.0.1 q "$@"; }
check_eq client_address.session_is_tcp "127.0.0.1" "$(tcp -c "SELECT host(inet_client_addr())" 2>&1)" "inet_client_addr() of a TCP session:"

# One session, one post per situation; the audit rows are read afterwards.
out=$(tcp 2>&1 <<SQL
INSERT INTO posts (user_id, title, content) VALUES ('$U', 'ip-unset', 'x');
SET chronicle.client_ip = '198.51.100.23';
INSERT INTO posts (user_id, title, content) VALUES ('$U', 'ip-set', 'x');
RESET chronicle.client_ip;
INSERT INTO posts (user_id, title, content) VALUES ('$U', 'ip-reset', 'x');
SET chronicle.client_ip = '';
INSERT INTO posts (user_id, title, content) VALUES ('$U', 'ip-empty', 'x');
BEGIN;
SET LOCAL chronicle.client_ip = '2001:db8::7';
UPDATE posts SET content = 'y' WHERE title = 'ip-set';
COMMIT;
DELETE FROM posts WHERE title = 'ip-unset';
SQL
)
check_eq client_address.tcp_writes_succeed "" "$out" "errors of the TCP session:"
ip_of() {  # TITLE OPERATION: the ip_address of that audit row as inet prints it ("null" when NULL)
  q -c "SELECT CASE WHEN ip_address IS NULL THEN 'null' ELSE format('%s', ip_address) END FROM audit_logs
        WHERE table_name = 'posts' AND operation = '$2' AND coalesce(new_data, old_data)->>'title' = '$1'
        ORDER BY id DESC LIMIT 1" 2>&1
}
check_eq client_address.unset_is_client_address "127.0.0.1" "$(ip_of ip-unset INSERT)" "ip_address without chronicle.client_ip:"
check_eq client_address.setting_wins "198.51.100.23" "$(ip_of ip-set INSERT)" "ip_address with chronicle.client_ip set:"
check_eq client_address.reset_is_client_address_again "127.0.0.1" "$(ip_of ip-reset INSERT)" "ip_address after RESET chronicle.client_ip:"
check_eq client_address.empty_setting_is_client_address "127.0.0.1" "$(ip_of ip-empty INSERT)" "ip_address with chronicle.client_ip = '':"
check_eq client_address.set_local_wins "2001:db8::7" "$(ip_of ip-set UPDATE)" "ip_address with SET LOCAL chronicle.client_ip:"
check_eq client_address.after_set_local_is_client_address "127.0.0.1" "$(ip_of ip-unset DELETE)" "ip_address after the SET LOCAL transaction:"

# The Unix socket has no client address: NULL, as inet_client_addr() says.
q -c "INSERT INTO posts (user_id, title, content) VALUES ('$U', 'ip-socket', 'x')" >/dev/null
check_eq client_address.unix_socket_is_null "null" "$(ip_of ip-socket INSERT)" "ip_address over the Unix socket:"

# pglib.sh: a throw-away PostgreSQL server for tests that compare weft's
# answers with PostgreSQL's (t_sql_diff, t_policy_rules). Sourced after
# lib.sh. pg_start starts a server of its own in a temporary directory
# ($P), listening only on a Unix socket there (port PORT, default
# WEFT_PG_PORT or 5488), collation C with C.UTF-8 character classes, UTC;
# pg_stop stops it and removes $P (call it from the test's EXIT trap);
# pg DB ARGS... runs psql (no psqlrc, errors fail) on database DB.
# PostgreSQL refuses to run as root: as root the server runs as the
# postgres user the Debian package creates.
pg_start() {
	PORT=${WEFT_PG_PORT:-5488}
	PGBIN=""
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5,5n); do
		[ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && PGBIN=$d
	done
	if [ -z "$PGBIN" ] && command -v pg_ctl >/dev/null 2>&1; then
		PGBIN=$(dirname "$(command -v pg_ctl)")
	fi
	[ -n "$PGBIN" ] || die "no PostgreSQL server (make deps installs postgresql)"
	PSQL="$PGBIN/psql"
	[ -x "$PSQL" ] || PSQL=psql
	P=$(mktemp -d /tmp/weft-pg-XXXXXX)
	if [ "$(id -u)" = 0 ]; then
		id postgres >/dev/null 2>&1 || die "no postgres user (is postgresql installed?)"
		chown postgres "$P"
	fi
	export TZ=UTC PGTZ=UTC LC_ALL=C PGOPTIONS=
	unset PGDATABASE PGUSER PGHOST PGPORT PGSERVICE PGPASSWORD 2>/dev/null || :
	# Collation C: text compares bytewise, as in weft. Character classes
	# C.UTF-8: upper/lower/ILIKE map non-ASCII letters, as weft does.
	pg_asuser "$PGBIN/initdb" -D "$P/data" --locale=C --lc-ctype=C.UTF-8 \
	    --encoding=UTF8 -A trust -U postgres --no-sync >"$P/initdb.log" 2>&1 ||
		{ cat "$P/initdb.log" >&2; die "initdb failed"; }
	pg_asuser "$PGBIN/pg_ctl" -D "$P/data" -l "$P/server.log" -w -t 60 -o "\
-c listen_addresses='' -c unix_socket_directories='$P' -p $PORT \
-c fsync=off -c synchronous_commit=off -c full_page_writes=off \
-c timezone=UTC -c datestyle='iso, mdy' -c intervalstyle=postgres \
-c lc_messages=C -c max_connections=10 -c shared_buffers=16MB" start \
	    >"$P/pg_ctl.log" 2>&1 ||
		{ cat "$P/pg_ctl.log" "$P/server.log" >&2; die "PostgreSQL did not start"; }
}
pg_asuser() {
	if [ "$(id -u)" = 0 ]; then
		(cd "$P" && runuser -u postgres -- "$@")
	else
		(cd "$P" && "$@")
	fi
}
pg_stop() {
	[ -n "${P:-}" ] || return 0
	if [ -f "$P/data/postmaster.pid" ]; then
		pg_asuser "$PGBIN/pg_ctl" -D "$P/data" -m immediate -w stop \
		    >/dev/null 2>&1
	fi
	rm -rf "$P"
}
pg() {
	db=$1; shift
	"$PSQL" -X -q -v ON_ERROR_STOP=1 -h "$P" -p "$PORT" -U postgres \
	    -d "$db" "$@"
}

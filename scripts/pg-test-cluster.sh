#!/usr/bin/env bash
# Throwaway PostgreSQL cluster for OneSeal's tests.
#
#   eval "$(scripts/pg-test-cluster.sh start)"   # starts it, prints the exports below
#   scripts/pg-test-cluster.sh status            # is the cluster in $ONESEAL_PG_DIR up?
#   scripts/pg-test-cluster.sh stop [DIR]        # stops it and deletes its directory
#
# `start` prints (on stdout, nothing else goes there):
#   export ONESEAL_TEST_PG=postgres://oneseal:oneseal@127.0.0.1:PORT/oneseal_test
#   export ONESEAL_PG_DIR=/tmp/oneseal-pg.XXXXXX
# Everything else (progress, errors) goes to stderr. Because `eval "$(...)"`
# hides a failing exit code, scripts should capture first:
#   env_lines=$(scripts/pg-test-cluster.sh start) && eval "$env_lines"
#
# The cluster: a fresh initdb in a mktemp dir, listening on 127.0.0.1 only on a
# free port, fsync/synchronous_commit ON (tests check durability), role
# `oneseal` (password `oneseal`, SCRAM over TCP, CREATEDB) owning database
# `oneseal_test`. The unix socket lives inside the cluster dir and is used only
# by this script (peer auth) to create the role.
#
# PostgreSQL refuses to run as root: when run as root, the server runs as the
# `postgres` system user (created by Debian's package), or as a dedicated
# `oneseal-pg` system user if there is no `postgres` user.
# If initdb/pg_ctl are not found, Debian's `postgresql` package is installed.
#
# stop: uses DIR, else $ONESEAL_PG_DIR, else the last cluster started on this
# machine (recorded in /tmp/oneseal-pg-test-cluster.last). Idempotent: nothing
# to stop is not an error. It only deletes directories carrying its own marker.
#
# Optional env: ONESEAL_PG_PORT (fixed port instead of a free one).
set -euo pipefail

DB_USER=oneseal
DB_PASS=oneseal
DB_NAME=oneseal_test
MARKER=.oneseal-pg-test-cluster
LAST_FILE=/tmp/oneseal-pg-test-cluster.last
# runuser/useradd live in /usr/sbin, which a minimal PATH may lack
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH="$PATH:/usr/sbin:/sbin" ;; esac

log() { printf 'pg-test-cluster: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------- binaries --
find_bindir() {
  local d
  for d in "$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/x)")" \
           "$(pg_config --bindir 2>/dev/null || true)"; do
    if [[ -n "$d" && -x "$d/initdb" && -x "$d/pg_ctl" ]]; then
      # resolve symlinks (/usr/local/bin/initdb -> /usr/lib/postgresql/15/bin)
      d=$(dirname "$(readlink -f "$d/initdb")")
      [[ -x "$d/pg_ctl" ]] && { echo "$d"; return 0; }
    fi
  done
  # newest /usr/lib/postgresql/N/bin
  for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -t/ -k5,5nr); do
    if [[ -x "$d/initdb" && -x "$d/pg_ctl" ]]; then echo "$d"; return 0; fi
  done
  return 1
}

install_postgres() {
  [[ $(id -u) -eq 0 ]] || die "initdb/pg_ctl not found and not root: install Debian's 'postgresql' package"
  command -v apt-get >/dev/null || die "initdb/pg_ctl not found and no apt-get to install PostgreSQL"
  log "initdb/pg_ctl not found; installing Debian's postgresql package"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends postgresql >&2
}

# ------------------------------------------------------------------- users --
RUN_AS=""      # OS user that owns and runs the cluster ("" = current user)
pick_user() {
  if [[ $(id -u) -ne 0 ]]; then RUN_AS=""; return; fi
  if id -u postgres >/dev/null 2>&1; then
    RUN_AS=postgres
  else
    if ! id -u oneseal-pg >/dev/null 2>&1; then
      log "creating system user oneseal-pg to run PostgreSQL (it refuses to run as root)"
      useradd --system --user-group --no-create-home --home-dir /nonexistent \
              --shell /usr/sbin/nologin oneseal-pg
    fi
    RUN_AS=oneseal-pg
  fi
}

as_pg() {  # run a command as the cluster's OS user, in a dir it can read
  if [[ -n "$RUN_AS" ]]; then
    (cd / && runuser -u "$RUN_AS" -- "$@")
  else
    "$@"
  fi
}

# -------------------------------------------------------------------- port --
port_in_use() {
  ss -Htln "sport = :$1" 2>/dev/null | grep -q . && return 0
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
  return 1
}

free_port() {
  local p
  if command -v python3 >/dev/null 2>&1; then
    p=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()' 2>/dev/null || true)
    if [[ -n "$p" ]] && ! port_in_use "$p"; then echo "$p"; return 0; fi
  fi
  for ((p = 54329 + RANDOM % 200; p < 54800; p++)); do
    port_in_use "$p" || { echo "$p"; return 0; }
  done
  return 1
}

# ------------------------------------------------------------------- start --
STARTING_DIR=""
on_start_exit() {
  local rc=$?
  if [[ $rc -ne 0 && -n "$STARTING_DIR" ]]; then
    log "start failed; cleaning up $STARTING_DIR"
    if [[ -f "$STARTING_DIR/postgres.log" ]]; then tail -n 20 "$STARTING_DIR/postgres.log" >&2; fi
    cmd_stop "$STARTING_DIR" >/dev/null 2>&1 || true
  fi
  return "$rc"
}

cmd_start() {
  local bindir
  bindir=$(find_bindir) || { install_postgres; bindir=$(find_bindir) || die "PostgreSQL binaries still not found after install"; }
  pick_user

  local dir
  # /tmp, not $TMPDIR: the postgres user must be able to reach it.
  dir=$(mktemp -d /tmp/oneseal-pg.XXXXXX)
  touch "$dir/$MARKER"
  [[ -n "$RUN_AS" ]] && chown -R "$RUN_AS:" "$dir"
  chmod 700 "$dir"

  # On any failure from here on: stop what was started, remove the dir.
  STARTING_DIR=$dir
  trap on_start_exit EXIT

  local pwfile="$dir/pwfile.tmp"
  # superuser password is never used (local socket = peer, TCP = scram) but
  # initdb with scram host auth wants the superuser to have one.
  head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$pwfile"
  [[ -n "$RUN_AS" ]] && chown "$RUN_AS:" "$pwfile"
  chmod 600 "$pwfile"

  log "initdb ($bindir) in $dir/data${RUN_AS:+ as user $RUN_AS}"
  as_pg "$bindir/initdb" -D "$dir/data" --encoding=UTF8 --locale=C.UTF-8 \
        --auth-local=peer --auth-host=scram-sha-256 --pwfile="$pwfile" >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  rm -f "$pwfile"
  # our settings live in their own file, included last so they win
  echo "include_if_exists = 'oneseal-test.conf'" >> "$dir/data/postgresql.conf"

  local port="" attempt
  for attempt in 1 2 3 4 5; do
    port=${ONESEAL_PG_PORT:-$(free_port)} || die "no free port found"
    cat > "$dir/data/oneseal-test.conf" <<EOF
# written by scripts/pg-test-cluster.sh
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
unix_socket_permissions = 0700
password_encryption = 'scram-sha-256'
# durability stays ON: the tests check it
fsync = on
synchronous_commit = on
full_page_writes = on
max_connections = 200
logging_collector = off
log_min_messages = warning
EOF
    [[ -n "$RUN_AS" ]] && chown "$RUN_AS:" "$dir/data/oneseal-test.conf"
    chmod 600 "$dir/data/oneseal-test.conf"
    if as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start >/dev/null 2>&1; then
      break
    fi
    if [[ -n "${ONESEAL_PG_PORT:-}" || $attempt -eq 5 ]]; then
      die "pg_ctl start failed (port $port)"
    fi
    log "start on port $port failed (taken?); trying another port"
    port=""
  done

  local i
  for ((i = 0; i < 60; i++)); do
    "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -t 2 && break
    sleep 0.5
  done
  "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -t 2 || die "server not ready on 127.0.0.1:$port"

  # create the role and database over the unix socket (peer auth as superuser)
  as_pg "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -d postgres >/dev/null <<EOF
CREATE ROLE $DB_USER LOGIN CREATEDB PASSWORD '$DB_PASS';
CREATE DATABASE $DB_NAME OWNER $DB_USER;
EOF

  cat > "$dir/cluster.env" <<EOF
BINDIR=$bindir
RUN_AS=$RUN_AS
PORT=$port
EOF
  echo "$dir" > "$LAST_FILE"

  trap - EXIT
  log "PostgreSQL $("$bindir/pg_ctl" --version | awk '{print $3}') up on 127.0.0.1:$port (dir $dir)"
  printf 'export ONESEAL_TEST_PG=%q\n' "postgres://$DB_USER:$DB_PASS@127.0.0.1:$port/$DB_NAME"
  printf 'export ONESEAL_PG_DIR=%q\n' "$dir"
}

# -------------------------------------------------------------------- stop --
cmd_stop() {
  local dir=${1:-${ONESEAL_PG_DIR:-}}
  if [[ -z "$dir" && -f "$LAST_FILE" ]]; then dir=$(cat "$LAST_FILE"); fi
  if [[ -z "$dir" ]]; then log "nothing to stop (no dir given, ONESEAL_PG_DIR unset)"; return 0; fi
  if [[ ! -e "$dir" ]]; then
    log "nothing to stop ($dir does not exist)"
    [[ -f "$LAST_FILE" && "$(cat "$LAST_FILE")" == "$dir" ]] && rm -f "$LAST_FILE"
    return 0
  fi
  [[ -f "$dir/$MARKER" ]] || die "$dir is not a cluster made by this script (no $MARKER); not touching it"

  local BINDIR="" RUN_AS_SAVED=""
  if [[ -f "$dir/cluster.env" ]]; then
    BINDIR=$(sed -n 's/^BINDIR=//p' "$dir/cluster.env")
    RUN_AS_SAVED=$(sed -n 's/^RUN_AS=//p' "$dir/cluster.env")
  fi
  [[ -n "$BINDIR" ]] || BINDIR=$(find_bindir || true)
  if [[ -n "$RUN_AS_SAVED" ]]; then RUN_AS=$RUN_AS_SAVED; else pick_user; fi

  if [[ -f "$dir/data/postmaster.pid" && -n "$BINDIR" ]]; then
    log "stopping server in $dir"
    if ! as_pg "$BINDIR/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1; then
      as_pg "$BINDIR/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
    fi
  fi
  if [[ -f "$dir/data/postmaster.pid" ]]; then
    # pg_ctl could not stop it: kill the postmaster (only that pid)
    local pid
    pid=$(head -n1 "$dir/data/postmaster.pid" 2>/dev/null || true)
    if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
      log "pg_ctl stop failed; sending SIGQUIT to postmaster $pid"
      kill -QUIT "$pid" 2>/dev/null || true
      for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    fi
  fi
  rm -rf -- "$dir"
  [[ -f "$LAST_FILE" && "$(cat "$LAST_FILE")" == "$dir" ]] && rm -f "$LAST_FILE"
  log "stopped and removed $dir"
  return 0
}

cmd_status() {
  local dir=${1:-${ONESEAL_PG_DIR:-}}
  [[ -n "$dir" && -f "$dir/$MARKER" && -f "$dir/cluster.env" ]] || { log "no cluster (ONESEAL_PG_DIR unset or gone)"; return 1; }
  local bindir port
  bindir=$(sed -n 's/^BINDIR=//p' "$dir/cluster.env")
  port=$(sed -n 's/^PORT=//p' "$dir/cluster.env")
  "$bindir/pg_isready" -h 127.0.0.1 -p "$port" >&2
}

case "${1:-}" in
  start)  shift; cmd_start "$@" ;;
  stop)   shift; cmd_stop "$@" ;;
  status) shift; cmd_status "$@" ;;
  -h|--help|help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' ;;
  *) echo "usage: $0 start|stop [DIR]|status [DIR]" >&2; exit 2 ;;
esac

# Library for a streaming read replica of tests/lib/stack.sh's throwaway primary (test_replica.sh,
# bench/replica.sh): pg_basebackup -R into a second cluster on its own Unix socket, run as the clusters' OS
# user (postgres when we are root, as db/pgdev.sh does). Source it after stack.sh, call replica_start after
# stack_start; replica_stop before finish (finish removes $T, the replica lives outside it).
#
# Env out: R (the replica's folder: data/, log, socket), HOP_DB_READ (its connection string, exported).
# shellcheck shell=bash

R=""
R_STARTED=""
HOP_DB_READ=""

# replica_as_pg CMD...: a server-side command as the clusters' OS user.
replica_as_pg() {
  if ((EUID == 0)); then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

_replica_bin() {
  local b
  b=$(pg_config --bindir 2>/dev/null) || true
  [[ -n $b && -x $b/pg_ctl ]] || b=/usr/lib/postgresql/15/bin
  echo "$b"
}

# replica_ctl ARGS...: pg_ctl on the replica, its output appended to $R/ctl.log.
replica_ctl() {
  replica_as_pg "$(_replica_bin)/pg_ctl" -D "$R/data" "$@" >>"$R/ctl.log" 2>&1
}

# rq SQL: run SQL on the replica and print the bare result.
rq() {
  psql -X -Atq -v ON_ERROR_STOP=1 -d "$HOP_DB_READ" -c "$1"
}

# replica_start: make the replica from the running primary and start it (30 s at most); 0, or 1 with the
# reason on stderr. A fast checkpoint: the default spread one waits minutes on an idle primary.
replica_start() {
  local primary super
  primary=$(readlink -f "$T/pg")
  super=$(cat "$primary/superuser")
  R=$(mktemp -d "${TMPDIR:-/tmp}/hop-replica.XXXXXX")
  if ((EUID == 0)) && ! runuser -u postgres -- test -x "$(dirname "$R")"; then
    rmdir "$R" # a TMPDIR the postgres user cannot reach (as db/pgdev.sh finds): /tmp instead
    R=$(mktemp -d /tmp/hop-replica.XXXXXX)
  fi
  if ((EUID == 0)); then
    chown postgres:postgres "$R"
  fi
  chmod 0700 "$R"
  if ! replica_as_pg "$(_replica_bin)/pg_basebackup" -h "$primary" -U "$super" -D "$R/data" -R -X stream \
    -c fast --no-sync >"$R/basebackup.log" 2>&1; then
    echo "pg_basebackup failed: $(tail -n 5 "$R/basebackup.log" | tr '\n' '|')" >&2
    return 1
  fi
  replica_as_pg tee -a "$R/data/postgresql.conf" >/dev/null <<CONF

# --- a replica of tests/lib/replica.sh: its own socket; it reports its replay position every second
unix_socket_directories = '$R'
hot_standby = on
wal_receiver_status_interval = 1s
CONF
  if ! replica_ctl -l "$R/log" -w -t 30 start; then
    echo "the replica did not start: $(tail -n 10 "$R/log" 2>/dev/null | tr '\n' '|')" >&2
    return 1
  fi
  R_STARTED=1
  HOP_DB_READ="host=$R dbname=hop user=$super"
  export HOP_DB_READ
}

# replica_stop [MODE]: stop the replica (pg_ctl -m MODE, default fast); it can be started again with
# replica_restart.
replica_stop() {
  [[ -n $R_STARTED ]] || return 0
  replica_ctl -m "${1:-fast}" -w -t 30 stop || true
  R_STARTED=""
}

replica_restart() {
  replica_ctl -l "$R/log" -w -t 30 start || return 1
  R_STARTED=1
}

# replica_cleanup: stop the replica at once and remove its folder (unless KEEP=1); for an EXIT trap.
replica_cleanup() {
  replica_stop immediate
  if [[ -n $R && -d $R && ${KEEP:-} != 1 ]]; then
    rm -rf "$R"
  fi
}

# replica_caught_up OWNER_ID: the replica's read_lsn stamp of the owner has reached the primary's (it has
# replayed that owner's last write).
replica_caught_up() {
  local p r
  p=$(psql_q "SELECT lsn FROM read_lsn WHERE owner_id = $1")
  r=$(rq "SELECT lsn FROM read_lsn WHERE owner_id = $1" 2>/dev/null) || return 1
  [[ -n $r ]] && [[ $(psql_q "SELECT '$r'::pg_lsn >= '$p'::pg_lsn") == t ]]
}

replica_paused() {
  [[ $(rq "SELECT pg_get_wal_replay_pause_state()" 2>/dev/null) == paused ]]
}

replica_answers() {
  rq "SELECT 1" >/dev/null 2>&1
}

#!/usr/bin/env bash
# Per-project development PostgreSQL cluster (Unix socket only, inside $PGDEV_DIR, default <repo>/.pgres).
# Usage: db/pgdev.sh {init|start|stop|status|url|psql [psql args...]|reset}.
#
# As root the server runs as the `postgres` OS user (initdb refuses root), which must reach the folder. When
# it cannot (a checkout in root's home, mode 0700, or a TMPDIR under one), the cluster lives in a folder of
# its own under the postgres user's home, /var/lib/postgresql/hop-dev/<name>-<hash of the folder's path>,
# owned by postgres, and $PGDEV_DIR (.pgres) is a symbolic link to it: one cluster per checkout, and no
# permission of the user's own folders changes. `reset` stops the cluster and removes it (and the link).
set -euo pipefail

prog=$(basename "$0")
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=${PGDEV_DIR:-$repo/.pgres}
dbname=hop

die() {
  echo "$prog: $*" >&2
  exit 1
}

usage() {
  echo "usage: $prog {init|start|stop|status|url|psql [args...]|reset}" >&2
  echo "  dir: \$PGDEV_DIR (default <repo>/.pgres, a link to the cluster when the postgres user cannot reach it)" >&2
  echo "  data in <dir>/data, log in <dir>/log, socket in <dir>" >&2
}

# Absolute path of $dir, without requiring it to exist yet.
case $dir in
  /*) ;;
  *) dir=$PWD/$dir ;;
esac
dir=${dir%/}

# PostgreSQL's server binaries are not on PATH on Debian.
bindir=$(pg_config --bindir 2>/dev/null || true)
if [[ -z $bindir || ! -x $bindir/initdb ]]; then
  bindir=/usr/lib/postgresql/15/bin
fi
[[ -x $bindir/initdb ]] || die "PostgreSQL server binaries not found in $bindir (run scripts/deps.sh)"

# initdb refuses root: as root, the server runs as the `postgres` OS user, which is also the cluster superuser.
if ((EUID == 0)); then
  id postgres >/dev/null 2>&1 || die "running as root but the 'postgres' user does not exist (install postgresql)"
  server_user=postgres
else
  server_user=$(id -un)
fi

# Run a server-side command as the server's OS user, from a directory it can read.
as_server() {
  if ((EUID == 0)); then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

# True when the postgres user can traverse every existing parent of folder $1 (always true when not root).
reachable() {
  ((EUID == 0)) || return 0
  local p="" part
  local -a parts
  IFS=/ read -r -a parts <<<"${1#/}"
  for part in "${parts[@]:0:${#parts[@]}-1}"; do
    p=$p/$part
    [[ -d $p ]] || break
    runuser -u postgres -- test -x "$p" || return 1
  done
}

# Where the cluster really is. $dir may be a link made by an earlier run; as root, a folder the postgres user
# cannot reach becomes a link to a folder of its own (made by init).
link=""
if [[ -L $dir ]]; then
  link=$dir
  dir=$(readlink -m -- "$dir")
elif ((EUID == 0)) && [[ ! -e $dir ]] && ! reachable "$dir"; then
  link=$dir
  home=$(getent passwd postgres | cut -d: -f6)
  [[ -n $home && -d $home ]] || home=/var/tmp
  name=$(basename "$(dirname "$dir")" | tr -c 'A-Za-z0-9._\n-' _ | cut -c1-24)
  dir=${PGDEV_HOME:-$home/hop-dev}/$name-$(printf '%s' "$link" | sha256sum | cut -c1-16)
fi
data=$dir/data
log=$dir/log
socket=$dir/.s.PGSQL.5432

# The superuser chosen at init time (recorded), else the one init would choose.
superuser() {
  if [[ -r $dir/superuser ]]; then
    cat "$dir/superuser"
  else
    echo "$server_user"
  fi
}

# Quote a conninfo value when it needs it.
cq() {
  local v=$1
  if [[ $v =~ [[:space:]\'\\] || -z $v ]]; then
    v=${v//\\/\\\\}
    v=${v//\'/\\\'}
    printf "'%s'" "$v"
  else
    printf '%s' "$v"
  fi
}

conninfo() {
  local db=${1:-$dbname}
  printf 'host=%s dbname=%s user=%s\n' "$(cq "$dir")" "$(cq "$db")" "$(cq "$(superuser)")"
}

check_socket_path() {
  local n=${#socket}
  if ((n > 107)); then
    die "the socket path would be $n bytes, over the 107-byte limit of Unix sockets:
  $socket
  use a shorter path: PGDEV_DIR=/tmp/something $prog ..."
  fi
}

# As root, every parent of $dir must be traversable by the postgres user; name the first one that is not.
check_traversable() {
  ((EUID == 0)) || return 0
  reachable "$dir" && return 0
  local p="" part
  local -a parts
  IFS=/ read -r -a parts <<<"${dir#/}"
  for part in "${parts[@]:0:${#parts[@]}-1}"; do
    p=$p/$part
    if [[ -d $p ]] && ! runuser -u postgres -- test -x "$p"; then
      die "the postgres user cannot traverse $p (mode $(stat -c %A "$p"), owner $(stat -c %U "$p")), a parent of $dir
  (an existing folder is used as it is; remove it, and $prog puts the cluster where postgres can reach it)"
    fi
  done
}

running() {
  [[ -f $data/PG_VERSION ]] || return 1
  as_server "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1
}

cmd_init() {
  if [[ -f $data/PG_VERSION ]]; then
    echo "$prog: cluster already initialized in $data"
    return 0
  fi
  check_socket_path
  if [[ -n $link ]]; then
    mkdir -p "$(dirname "$dir")"
    chown postgres:postgres "$(dirname "$dir")"
    chmod 0755 "$(dirname "$dir")"
  fi
  check_traversable
  mkdir -p "$dir"
  if ((EUID == 0)); then
    chown postgres:postgres "$dir"
  fi
  chmod 0700 "$dir"
  if [[ -n $link ]]; then
    ln -sfn -- "$dir" "$link"
    echo "$link" >"$dir/link"
    chmod 0644 "$dir/link"
    echo "$prog: the postgres user cannot reach $link, so the cluster lives in $dir ($link links to it)"
  fi
  as_server test -w "$dir" || die "$server_user cannot write to $dir"
  if [[ -e $data ]]; then
    die "$data exists but holds no cluster; remove $dir to reset"
  fi
  echo "$prog: initializing a cluster in $data (superuser $server_user)"
  as_server "$bindir/initdb" --no-sync --no-instructions -A trust -U "$server_user" -E UTF8 --no-locale \
    -D "$data" >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    die "initdb failed"
  }
  local sockdir=${dir//\'/\'\'}
  as_server tee -a "$data/postgresql.conf" >/dev/null <<CONF

# --- hop dev settings (db/pgdev.sh) ---
listen_addresses = ''
unix_socket_directories = '$sockdir'
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
  echo "$server_user" >"$dir/superuser"
  if ((EUID == 0)); then
    chown postgres:postgres "$dir/superuser" "$dir/initdb.log"
  fi
  chmod 0644 "$dir/superuser"
}

cmd_start() {
  [[ -f $data/PG_VERSION ]] || cmd_init
  check_socket_path
  check_traversable
  if running; then
    echo "$prog: already running ($dir)"
  else
    as_server "$bindir/pg_ctl" -D "$data" -l "$log" -w -t 30 start >/dev/null || {
      tail -n 30 "$log" >&2 || true
      die "could not start PostgreSQL (log: $log)"
    }
    echo "$prog: started ($dir)"
  fi
  local exists
  exists=$(psql -X -Atq -d "$(conninfo postgres)" -c "SELECT 1 FROM pg_database WHERE datname = '$dbname'")
  if [[ $exists != 1 ]]; then
    psql -X -q -v ON_ERROR_STOP=1 -d "$(conninfo postgres)" -c "CREATE DATABASE $dbname" >/dev/null
    echo "$prog: created database $dbname"
  fi
}

cmd_stop() {
  if ! running; then
    echo "$prog: not running ($dir)"
    return 0
  fi
  as_server "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null
  echo "$prog: stopped ($dir)"
}

cmd_status() {
  if [[ ! -f $data/PG_VERSION ]]; then
    echo "$prog: no cluster in $dir (run: $prog start)"
    return 3
  fi
  if running; then
    echo "$prog: running ($dir); HOP_DB=\"$(conninfo)\""
  else
    echo "$prog: stopped ($dir)"
    return 3
  fi
}

# Stop the cluster and remove it (and the link to it).
cmd_reset() {
  if [[ -f $data/PG_VERSION ]] && running; then
    cmd_stop
  fi
  if [[ -e $dir ]]; then
    rm -rf -- "$dir"
    echo "$prog: removed $dir"
  fi
  if [[ -n $link && -L $link ]]; then
    rm -f -- "$link"
  fi
}

case ${1:-} in
  init) cmd_init ;;
  reset) cmd_reset ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  url) conninfo ;;
  psql)
    shift
    exec psql -X -d "$(conninfo)" "$@"
    ;;
  -h | --help | help) usage ;;
  *)
    usage
    exit 2
    ;;
esac

#!/usr/bin/env bash
# systemd/hop.socket and systemd/hop.service as shipped, under a real systemd (252) running as PID 1 in
# private namespaces (PID, mount, UTS, IPC, cgroup): only these units and stub targets are visible to it, so
# it touches nothing of the host's. Checks: the socket's owner and mode, activation by the first request,
# Type=notify, DynamicUser "hop" with PostgreSQL peer authentication, the sandbox rated online,
# `systemctl reload` and `systemctl restart` three times each under load through Caddy with no failed request
# and no watchdog kill (WatchdogSec=3s here), STATUS= with the worker count, a SIGSTOPped master restarted by
# the watchdog,
# a clean stop that leaves the socket to hop.socket, and a password through LoadCredential + PGPASSFILE.
# Fails, with the reason, where the machine cannot boot systemd so (not root, no unshare, no cgroup2): a
# suite that cannot run is a failure, never a silent pass.
set -euo pipefail

# shellcheck source=tests/lib/stack.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/stack.sh"
# shellcheck source=tests/lib/prod.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/prod.sh"

LOAD_SECS=5
NSPID=""
CGDIR=""

# cannot_run WHY: this machine cannot run the suite; that is a failure (stops what was started, exit 1).
cannot_run() {
  fail "systemd as PID 1 in namespaces can run here" "$1"
  finish
}

((EUID == 0)) || cannot_run "systemd as PID 1 in namespaces needs root"
for tool in unshare nsenter /lib/systemd/systemd; do
  command -v "$tool" >/dev/null 2>&1 || cannot_run "$tool is missing"
done
PGBIN=$(pg_config --bindir 2>/dev/null || true)
[[ -x $PGBIN/postgres ]] || PGBIN=/usr/lib/postgresql/15/bin
getent group caddy >/dev/null || cannot_run "no caddy group (hop.socket's SocketGroup); install caddy"

# ns CMD...: run CMD inside the namespaces (systemctl talks to that PID 1 through its /run)
ns() {
  nsenter -t "$NSPID" -m -p -u -i -C "$@"
}

# psql_ns SQL: as the postgres superuser, on the cluster inside
psql_ns() {
  ns runuser -u postgres -- psql -X -Atq -v ON_ERROR_STOP=1 -h /run/postgresql -d "${2:-postgres}" -c "$1"
}

prop() {
  ns systemctl show -p "$1" --value "$2"
}

# The cgroup subtree the inner systemd ran in, once it is gone.
# shellcheck disable=SC2317 # cleanup_cgroups and systemd_cleanup run from the EXIT trap
cleanup_cgroups() {
  [[ -n $CGDIR && -d $CGDIR ]] || return 0
  find "$CGDIR" -depth -type d -exec rmdir {} + 2>/dev/null
  return 0
}

# shellcheck disable=SC2317
systemd_cleanup() {
  set +e
  if [[ -n $NSPID ]] && kill -0 "$NSPID" 2>/dev/null; then
    # a stopped hop.service takes its PrivateTmp folders (made in the host's /tmp and /var/tmp) with it
    timeout 20 nsenter -t "$NSPID" -m -p -u -i -C systemctl stop hop.service >/dev/null 2>&1
    kill -KILL "$NSPID" # PID 1 of the namespace: everything inside goes with it
    sleep 0.3
  fi
  cleanup_cgroups
  prod_cleanup
}

prod_init
trap systemd_cleanup EXIT

# The inner systemd gets a cgroup of its own in the host's cgroup2 tree (unified or hybrid), made the root
# of its cgroup namespace: it sees and manages that subtree only, so two runs at once cannot meet.
CG2ROOT=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
[[ -n $CG2ROOT ]] || cannot_run "no cgroup2 file system is mounted"
CGDIR=$CG2ROOT/$(basename "$T")
mkdir "$CGDIR" 2>/dev/null || cannot_run "cannot make a cgroup under $CG2ROOT"

# ---- the pieces: a cluster, the units, stub targets ---------------------------------------------------------
mkdir -p "$T/pg" && chown postgres "$T/pg"
runuser -u postgres -- "$PGBIN/initdb" -D "$T/pg/data" --no-sync -A peer -U postgres >"$T/initdb.log" 2>&1 ||
  prod_abort "initdb failed"
# peer for everyone (as Debian's default), a password for the credential check's role
printf 'local hop hop_pw scram-sha-256\nlocal all all peer\n' >"$T/pg/data/pg_hba.conf"

U=$T/units
mkdir -p "$U/hop.service.d"
cp "$STACK_REPO/systemd/hop.socket" "$STACK_REPO/systemd/hop.service" "$U/"
for t in sysinit basic sockets shutdown umount final multi-user network network-online paths timers \
  local-fs remote-fs slices poweroff; do
  printf '[Unit]\nDescription=stub %s\nDefaultDependencies=no\n' "$t" >"$U/$t.target"
done
cat >"$U/hoptest.target" <<EOF
[Unit]
Description=hop under systemd (test)
DefaultDependencies=no
Wants=postgresql.service hop.socket
EOF
cat >"$U/postgresql.service" <<EOF
[Unit]
Description=PostgreSQL (test)
DefaultDependencies=no
[Service]
Type=notify
User=postgres
RuntimeDirectory=postgresql
RuntimeDirectoryMode=2775
ExecStart=$PGBIN/postgres -D $T/pg/data -c unix_socket_directories=/run/postgresql -c listen_addresses= -c fsync=off
StandardOutput=append:$T/postgres.log
StandardError=append:$T/postgres.log
EOF
# the test's only change to hop.service: where its log goes (no journald in here), fewer workers, and for
# the sanitizer build no leak check (LeakSanitizer needs ptrace, which the sandbox forbids)
cat >"$U/hop.service.d/test.conf" <<EOF
[Service]
StandardOutput=append:$T/hop.log
StandardError=append:$T/hop.log
Environment=HOP_WORKERS=2 ASAN_OPTIONS=detect_leaks=0
WatchdogSec=3s
TimeoutAbortSec=2s
EOF

# Inside the new namespaces: a private /run, a cgroup2 mount, only our units (the host's unit folders,
# generators and /usr/local/bin are covered by empty tmpfs), "/" shared as systemd expects (credentials are
# mounted through that), then systemd as PID 1. container= tells it not to set up a machine.
cat >"$T/inner.sh" <<EOF
set -e
mount --make-rshared /
mount -t tmpfs -o mode=0755 tmpfs /run
umount -l /sys/fs/cgroup
mount -t cgroup2 cgroup2 /sys/fs/cgroup
for d in /etc/systemd/system /usr/lib/systemd/system /usr/lib/systemd/system-generators \
    /usr/lib/systemd/system-environment-generators /usr/local/bin; do
  [ -d "\$d" ] && mount -t tmpfs -o mode=0755 tmpfs "\$d"
done
cp -a "$U/." /etc/systemd/system/
cp "$HOP_BIN" /usr/local/bin/hop
exec env -i container=hop-test PATH=/usr/sbin:/usr/bin:/sbin:/bin \
  /lib/systemd/systemd --unit=hoptest.target --log-target=${SYSTEMD_TEST_LOG_TARGET:-null}
EOF
(
  echo "$BASHPID" >"$CGDIR/cgroup.procs"
  exec unshare --fork --pid --mount --uts --ipc --cgroup --propagation private --mount-proc bash "$T/inner.sh"
) >"$T/systemd.log" 2>&1 &
UNSHARE_PID=$!
PROD_PIDS+=("$UNSHARE_PID")
for ((i = 0; i < 100; i++)); do
  NSPID=$(awk '{ print $1 }' "/proc/$UNSHARE_PID/task/$UNSHARE_PID/children" 2>/dev/null) || NSPID=""
  if [[ -n $NSPID && $(cat "/proc/$NSPID/comm" 2>/dev/null) == systemd ]]; then
    break
  fi
  _stack_alive "$UNSHARE_PID" || break
  NSPID=""
  sleep 0.1
done
[[ -n $NSPID ]] || cannot_run "systemd could not be started as PID 1 in namespaces here: $(tr '\n' ' ' <"$T/systemd.log" | cut -c1-300)"
state=""
for ((i = 0; i < 100; i++)); do
  state=$(ns systemctl is-system-running 2>/dev/null) || true
  [[ $state == running || $state == degraded ]] && break
  sleep 0.1
done
if [[ $state == running ]]; then
  ok "systemd $(ns systemctl --version | awk 'NR == 1 { print $2 }') is running as PID 1 in the namespaces"
else
  fail "systemd is running as PID 1 in the namespaces" "state '$state'; failed units: $(ns systemctl --failed --no-legend 2>&1 | tr '\n' ' ')"
  prod_finish
fi

# ---- the socket, and activation -----------------------------------------------------------------------------
if [[ $(prop SubState hop.socket) == listening ]]; then ok "hop.socket is listening"; else fail "hop.socket is listening" "$(prop SubState hop.socket)"; fi
perm=$(ns stat -c '%a %U:%G %F' /run/hop/hop.sock 2>&1) || true
expect_eq "/run/hop/hop.sock: root:caddy, 0660" "$perm" "660 root:caddy socket"
expect_eq "/run/hop: 0755" "$(ns stat -c '%a' /run/hop 2>&1)" 755
expect_eq "hop.service not started before the first connection" "$(prop ActiveState hop.service)" inactive

psql_ns "CREATE ROLE hop LOGIN" || prod_abort "could not create role hop"
psql_ns "CREATE DATABASE hop OWNER hop" || prod_abort "could not create database hop"
prod_caddy "$STACK_REPO/caddy/Caddyfile.dev" HOP_SOCKET="/proc/$NSPID/root/run/hop/hop.sock"
req GET /healthz
expect_status "the first request through Caddy starts hop.service and is answered" 200
# A worker answers as soon as it is forked; the master sends READY=1 once every worker has said it is up, so the
# first answer can come a moment before systemd calls the unit active.
service_state() { echo "$(prop ActiveState hop.service)/$(prop SubState hop.service)"; }
service_active() { [[ $(service_state) == active/running ]]; }
poll_until 5000 service_active || true
expect_eq "hop.service: active (running) after READY=1" "$(service_state)" active/running
main=$(prop MainPID hop.service)
user=$(ns ps -o user= -p "$main" 2>/dev/null | tr -d ' ') || user=""
expect_eq "the master runs as the dynamic user hop" "$user" hop
if grep -q 'migrations done' "$T/hop.log" && grep -q 'source=systemd fd=3' "$T/hop.log"; then
  ok "hop migrated as role hop (peer authentication) and took fd 3 from systemd"
else
  fail "hop migrated as role hop (peer authentication) and took fd 3 from systemd" "$(tail -n 3 "$T/hop.log" | tr '\n' '|')"
fi
out=$(ns systemd-analyze security hop.service 2>&1) || true
rating=$(sed -n 's/.*Overall exposure level for hop.service: \([0-9.]*\).*/\1/p' <<<"$out")
echo "security rating of the running hop.service (online): ${rating:-?}"
if [[ -n $rating ]] && awk -v r="$rating" 'BEGIN { exit !(r <= 1.0) }'; then
  ok "systemd-analyze security on the loaded unit: $rating <= 1.0"
else
  fail "systemd-analyze security on the loaded unit <= 1.0" "rating '${rating:-none}'"
fi

API_KEY=$(ns runuser -u postgres -- env HOP_DB='host=/run/postgresql dbname=hop' /usr/local/bin/hop keys create systemd | tail -n 1)
slug=$(prod_create "https://example.com/under-systemd")
[[ -n $slug ]] || prod_abort "could not create a link through hop.service"

# ---- reload and restart under load ----------------------------------------------------------------------------
# under_load ACTION: three times `systemctl ACTION hop.service` during one wrk run; prints the figures
under_load() {
  local action=$1 i t0 ms times=""
  prod_wrk_start "$BASE/$slug" "$LOAD_SECS" 16
  sleep 0.8
  for ((i = 1; i <= 3; i++)); do
    t0=$EPOCHREALTIME
    ns systemctl "$action" hop.service || fail "systemctl $action hop.service ($i)" "failed"
    ms=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", (b - a) * 1000 }')
    times+="${times:+, }$ms"
    sleep 0.9
  done
  prod_wrk_wait
  echo "systemctl $action x3: requests $WRK_REQS, failed $WRK_FAILED, longest stall ${WRK_MAX_MS} ms;" \
    "systemctl returned after $times ms"
  if [[ $WRK_FAILED == 0 && $WRK_REQS -gt 0 ]]; then
    ok "systemctl $action x3 under load: $WRK_REQS requests, 0 failed"
  else
    fail "systemctl $action x3 under load: 0 failed" "$WRK_FAILED failed of $WRK_REQS; $WRK_ERRORS"
  fi
}

under_load reload
expect_eq "reload: same main pid, no restart" "$(prop MainPID hop.service)/$(prop NRestarts hop.service)" "$main/0"
expect_eq "the shipped unit arms the watchdog (WatchdogSec=30s)" "$(grep -c '^WatchdogSec=30s$' "$STACK_REPO/systemd/hop.service")" 1
expect_eq "the watchdog here: WatchdogSec=3s, and no kill through three reloads" "$(prop WatchdogUSec hop.service)/$(prop Result hop.service)" 3s/success
expect_eq "STATUS=: systemd shows the workers alive" "$(prop StatusText hop.service)" "2 of 2 workers alive"
m=$(curl -sS --max-time 10 "$METRICS_BASE/metrics" 2>&1) || m=""
expect_eq "/metrics through the Caddyfile's loopback site: 2 workers alive" "$(awk '$1 == "hop_workers_alive" { print $2 }' <<<"$m")" 2
# the sandbox allows AF_UNIX only and a private network: the kernel cannot be asked for the queue there
echo "listen queue under the sandbox: $(grep -c '^hop_listen_queue_length' <<<"$m") sample(s) (0: not reported)"
expect_eq "reload: three RELOADING=1 ... READY=1 cycles logged" "$(prod_count "$T/hop.log" 'msg=reloading')" 3
under_load restart
if [[ $(prop MainPID hop.service) != "$main" && $(prop ActiveState hop.service) == active ]]; then
  ok "restart: a new main pid, active"
else
  fail "restart: a new main pid, active" "MainPID $(prop MainPID hop.service), $(prop ActiveState hop.service)"
fi

# ---- the watchdog: a master that stops answering is restarted -------------------------------------------------
expect_eq "no watchdog restart through three restarts under load" "$(prop NRestarts hop.service)/$(prop Result hop.service)" 0/success
frozen=$(prop MainPID hop.service)
ns kill -STOP "$frozen"
for ((i = 0; i < 100; i++)); do
  [[ $(prop NRestarts hop.service) == 1 && $(prop ActiveState hop.service) == active && $(prop MainPID hop.service) != "$frozen" ]] && break
  sleep 0.1
done
if [[ $(prop NRestarts hop.service) == 1 && $(prop MainPID hop.service) != "$frozen" ]]; then
  ok "a SIGSTOPped master: systemd's watchdog restarted hop.service ($((i / 10)).$((i % 10)) s)"
else
  fail "a SIGSTOPped master is restarted by the watchdog" "NRestarts $(prop NRestarts hop.service), Result $(prop Result hop.service), MainPID $(prop MainPID hop.service)"
fi
req GET /healthz
expect_status "after the watchdog's restart hop.service answers" 200

# ---- stop ---------------------------------------------------------------------------------------------------
ns systemctl stop hop.service 2>/dev/null || true
expect_eq "stop: clean (result, exit status)" "$(prop Result hop.service)/$(prop ExecMainStatus hop.service)" success/0
expect_eq "stop: the socket stays, held by hop.socket" "$(ns stat -c '%F' /run/hop/hop.sock 2>&1)/$(prop SubState hop.socket)" "socket/listening"
if grep -q 'msg="worker died"' "$T/hop.log"; then
  fail "no worker died" "$(grep -m 2 'worker died' "$T/hop.log" | tr '\n' '|')"
else
  ok "no worker died"
fi

# ---- a password through LoadCredential= and PGPASSFILE (hop-remote-db.conf's way, on the local socket) -------
psql_ns "CREATE ROLE hop_pw LOGIN PASSWORD 'pw-only-in-a-credential' IN ROLE hop" || prod_abort "could not create role hop_pw"
printf '*:*:hop:hop_pw:pw-only-in-a-credential\n' >"$T/pgpass"
chmod 0600 "$T/pgpass"
cat >"$T/cred.conf" <<EOF
[Service]
LoadCredential=pgpass:$T/pgpass
Environment=PGPASSFILE=%d/pgpass
Environment="HOP_DB=host=/run/postgresql dbname=hop user=hop_pw"
EOF
ns cp "$T/cred.conf" /etc/systemd/system/hop.service.d/cred.conf
ns systemctl daemon-reload
req GET /healthz
expect_status "with the credential: hop.service answers again" 200
# each worker holds its connection from its start (the master opens its own at its first visit write)
n=$(psql_ns "SELECT count(*) FILTER (WHERE usename = 'hop_pw') || '/' || count(*) FILTER (WHERE usename = 'hop')
  FROM pg_stat_activity WHERE datname = 'hop'" hop) || n="?"
if [[ ${n%/*} -ge 2 && ${n#*/} == 0 ]]; then
  ok "with the credential: every connection is hop_pw's, with the password from \$CREDENTIALS_DIRECTORY ($n)"
else
  fail "with the credential: every connection is hop_pw's" "hop_pw/hop connections: $n; $(grep -E 'password|failed' "$T/hop.log" | tail -n 2 | tr '\n' '|')"
fi
main=$(prop MainPID hop.service)
cred=$(ns nsenter -t "$main" -m stat -c '%a %U' /run/credentials/hop.service/pgpass 2>/dev/null) || cred=""
echo "the credential as the service sees it: mode and owner ${cred:-?} (libpq refuses a password file with group or other bits)"
if grep -q 'password file' "$T/hop.log"; then
  fail "libpq accepted the credential file" "$(grep -m 1 'password file' "$T/hop.log")"
else
  ok "libpq accepted the credential file (no 'password file' warning)"
fi
ns systemctl stop hop.service 2>/dev/null || true

prod_finish

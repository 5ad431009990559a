#!/usr/bin/env bash
# What an operator watches, with the real parts: the pool's /metrics through the Caddyfile's loopback-only site
# (promtool's lint, exact counts of requests, redirects and visits, a killed worker's restart, PostgreSQL going
# away and coming back), a real Prometheus scraping it every second whose query API sees redirects go up,
# /metrics and /status staying a 404 on the public site whatever a client sends, `hop status` (text and
# --json) against a pool under load, what systemd is told over NOTIFY_SOCKET (READY, STATUS= with the worker
# count, WATCHDOG=1 at half of WATCHDOG_USEC), journald's priority prefix and HOP_ACCESS_LOG.
# shellcheck disable=SC2317 # functions called through poll_until look unreachable
set -euo pipefail

# shellcheck source=tests/lib/stack.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/stack.sh"

export HOP_WORKERS=3
PROM_PID=""
NOTIFY_PID=""
LOAD_PID=""

for tool in promtool prometheus wrk python3; do
  command -v "$tool" >/dev/null 2>&1 || {
    fail "$tool is installed" "scripts/deps.sh installs it (package ${tool/promtool/prometheus})"
    finish
  }
done

# ---- systemd's notify socket, read by a small datagram server (started before the pool, which uses it) -----
N=$(mktemp -d "${TMPDIR:-/tmp}/hop-notify.XXXXXX")
export NOTIFY_SOCKET=$N/notify.sock WATCHDOG_USEC=1000000
python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(0.5)
out = open(sys.argv[2], "a", buffering=1)
end = time.time() + 120
while time.time() < end:
    try:
        m = s.recv(4096)
    except socket.timeout:
        continue
    for line in m.decode().splitlines():
        out.write("%.3f %s\n" % (time.time(), line))
' "$NOTIFY_SOCKET" "$N/notify.log" &
NOTIFY_PID=$!
for ((i = 0; i < 50; i++)); do
  [[ -S $NOTIFY_SOCKET ]] && break
  sleep 0.1
done

cleanup() {
  [[ -z $PROM_PID ]] || kill "$PROM_PID" 2>/dev/null || true
  [[ -z $LOAD_PID ]] || kill "$LOAD_PID" 2>/dev/null || true
  [[ -z $NOTIFY_PID ]] || kill "$NOTIFY_PID" 2>/dev/null || true
  rm -rf "$N"
  stack_stop
}

stack_start
trap cleanup EXIT
unset NOTIFY_SOCKET WATCHDOG_USEC # only the stack's pool talks to it

# scrape: the loopback site's /metrics into $T/metrics.txt; STATUS its HTTP status.
scrape() {
  STATUS=$(curl -sS --max-time 10 -o "$T/metrics.txt" -D "$T/metrics.head" -w '%{http_code}' "$METRICS_BASE/metrics") ||
    STATUS=000
}

# metric SAMPLE: the value of the sample that starts with SAMPLE in the last scrape (empty when none); a family
# name, or a name with some of its labels ('name{a="b"'), adds up every sample it starts.
metric() {
  awk -v s="$1" 'index($0, s) == 1 && index(" ,{", substr($0, length(s) + 1, 1)) { v += $NF; found = 1 }
    END { if (found) printf "%d\n", v }' "$T/metrics.txt"
}

metric_is() {
  scrape
  [[ $(metric "$1") == "$2" ]]
}

metric_ge() {
  local v
  scrape
  v=$(metric "$1")
  [[ -n $v ]] && ((v >= $2))
}

KEY=$(make_key ops)
API_KEY=$KEY req POST /api/links -H 'Content-Type: application/json' --data-binary '{"url":"https://example.com/m","slug":"m1"}'
expect_status "a link to follow" 201

# ---- /metrics: the format, and exact counts ----------------------------------------------------------------
scrape
expect_eq "GET /metrics on the loopback site answers 200" "$STATUS" 200
if grep -qi '^content-type: text/plain; version=0.0.4; charset=utf-8' "$T/metrics.head"; then
  ok "the exposition's content type is text/plain; version=0.0.4"
else
  fail "the exposition's content type is text/plain; version=0.0.4" "$(grep -i content-type "$T/metrics.head")"
fi
base_3xx=$(metric 'hop_requests_total{method="GET",route="/:slug",status="3xx"}')
base_redirects=$(metric hop_redirects_total)
base_counted=$(metric hop_visits_counted_total)
for ((i = 0; i < 20; i++)); do
  req GET /m1
  [[ $STATUS == 302 ]] || fail "redirect $i" "$(_stack_last)"
done
scrape
if promtool check metrics <"$T/metrics.txt" >"$T/promtool.out" 2>&1; then
  ok "promtool check metrics finds nothing to say ($(grep -c '^# TYPE' "$T/metrics.txt") families, $(grep -vc '^#' "$T/metrics.txt") samples)"
else
  fail "promtool check metrics finds nothing to say" "$(head -n 5 "$T/promtool.out" | tr '\n' '|')"
fi
expect_eq "20 redirects: hop_requests_total for GET /:slug, 3xx" \
  "$(metric 'hop_requests_total{method="GET",route="/:slug",status="3xx"}')" $((base_3xx + 20))
expect_eq "20 redirects: hop_redirects_total (cache + postgres + stale)" "$(metric hop_redirects_total)" $((base_redirects + 20))
expect_eq "20 redirects: hop_visits_counted_total" "$(metric hop_visits_counted_total)" $((base_counted + 20))
expect_eq "the histogram counts what the counter counts" \
  "$(metric 'hop_request_duration_seconds_count{method="GET",route="/:slug"}')" \
  "$(metric 'hop_requests_total{method="GET",route="/:slug"')"
expect_eq "hop_workers_configured" "$(metric hop_workers_configured)" 3
expect_eq "hop_workers_alive" "$(metric hop_workers_alive)" 3
expect_eq "hop_postgres_connections up: 3 workers and the master" "$(metric 'hop_postgres_connections{state="up"}')" 4
expect_eq "hop_listen_queue_limit is the socket's backlog" "$(metric hop_listen_queue_limit)" 4096
if [[ -n $(metric hop_listen_queue_length) ]]; then
  ok "hop_listen_queue_length is reported"
else
  fail "hop_listen_queue_length is reported" "not in the scrape"
fi
if grep -Eq '^hop_build_info\{version="[^"]+"\} 1$' "$T/metrics.txt" && (($(metric hop_start_time_seconds) > 1700000000)); then
  ok "build version and start time"
else
  fail "build version and start time" "$(grep -E '^hop_(build_info|start_time)' "$T/metrics.txt" | tr '\n' '|')"
fi
if (($(metric 'hop_resident_memory_bytes{process="workers"}') > 1000000)); then
  ok "the workers' resident memory"
else
  fail "the workers' resident memory" "$(grep resident "$T/metrics.txt" | tr '\n' '|')"
fi
if poll_until 3000 metric_is hop_visits_written_total "$(metric hop_visits_counted_total)"; then
  ok "every counted visit is written within ${POLL_MS} ms (hop_visits_written_total)"
else
  fail "every counted visit is written" "written $(metric hop_visits_written_total), counted $(metric hop_visits_counted_total)"
fi
# written to the log, then added from the master's window once no visit came for a second
if poll_until 5000 metric_is hop_visits_pending 0; then
  ok "hop_visits_pending is 0 once the window is added (${POLL_MS} ms)"
else
  fail "hop_visits_pending is 0 once the window is added" "pending $(metric hop_visits_pending), window $(metric hop_visits_window)"
fi
expect_eq "hop_visits_window is 0 then" "$(metric hop_visits_window)" 0
expect_eq "hop_visits_applied_total = hop_visits_written_total" "$(metric hop_visits_applied_total)" \
  "$(metric hop_visits_written_total)"
expect_eq "hop_visits_dropped_total" "$(metric hop_visits_dropped_total)" 0
# the statements that added the window report their own time in PostgreSQL (HOP_VISITS_PG_MS is a share of it)
apply_s=$(awk '$1 == "hop_visits_apply_pg_seconds_total" { print $2 }' "$T/metrics.txt")
if [[ $apply_s =~ ^[0-9]+\.[0-9]{6}$ ]] && awk -v s="$apply_s" 'BEGIN { exit !(s > 0 && s < 60) }'; then
  ok "hop_visits_apply_pg_seconds_total: PostgreSQL's time adding the window ($apply_s s)"
else
  fail "hop_visits_apply_pg_seconds_total between 0 and a minute, to the microsecond" "$apply_s"
fi
if grep -Eq 'route="/m1"|m1' "$T/metrics.txt"; then
  fail "no slug or path is a label" "$(grep -m 3 m1 "$T/metrics.txt" | tr '\n' '|')"
else
  ok "no slug or path is a label"
fi

# ---- who may see it ------------------------------------------------------------------------------------------
req GET /metrics
expect_status "the public site: /metrics is a 404" 404
req GET /metrics -H 'HOP-METRICS: 1' -H 'Hop_Metrics: 1'
expect_status "the public site: /metrics is a 404 whatever headers a client sends" 404
req GET /status -H 'HOP-METRICS: 1'
expect_status "the public site: /status is a slug like any other (404)" 404
if [[ $BODY == *workers* ]]; then fail "the public site never shows the status" "$BODY"; else ok "the public site never shows the status"; fi
code=$(curl -sS -o /dev/null -w '%{http_code}' "$METRICS_BASE/m1") || code=000
expect_eq "the loopback site serves nothing but /metrics and /status" "$code" 404
code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$METRICS_BASE/metrics") || code=000
expect_eq "POST /metrics is a 405" "$code" 405
if ss -Htln "sport = :${METRICS_BASE##*:}" | awk '{ print $4 }' | grep -qv '^127\.0\.0\.1:'; then
  fail "the metrics site listens on loopback only" "$(ss -Htln "sport = :${METRICS_BASE##*:}")"
else
  ok "the metrics site listens on loopback only"
fi

# ---- a worker killed, PostgreSQL away and back ---------------------------------------------------------------
victim=$(stack_pool_workers hop | head -n 1)
kill -KILL "$victim"
if poll_until 3000 metric_is hop_worker_restarts_total 1 && poll_until 3000 metric_is hop_workers_alive 3; then
  ok "a killed worker: hop_worker_restarts_total 1, hop_workers_alive back to 3"
else
  fail "a killed worker is counted and replaced" "restarts $(metric hop_worker_restarts_total), alive $(metric hop_workers_alive)"
fi
for ((i = 0; i < 10; i++)); do req GET /m1; done # the new worker caches it too, most likely
stack_pg_stop fast
for ((i = 0; i < 6; i++)); do req GET /healthz; done
scrape
if (($(metric 'hop_postgres_connections{state="down"}') >= 1)); then
  ok "PostgreSQL stopped: hop_postgres_connections{state=\"down\"} $(metric 'hop_postgres_connections{state="down"}')"
else
  fail "PostgreSQL stopped: connections down" "$(grep postgres_connections "$T/metrics.txt" | tr '\n' '|')"
fi
codes=""
for ((i = 0; i < 6; i++)); do
  req GET /m1
  codes+=" $STATUS"
done
# a worker that has not seen the link yet cannot answer it now (503); the others redirect from their caches
if [[ $codes =~ ^( (302|503))+$ && $codes == *302* ]]; then
  ok "PostgreSQL stopped: cached links still redirect ($codes)"
else
  fail "PostgreSQL stopped: cached links still redirect" "$codes"
fi
stack_pg_start
if poll_until 5000 metric_is 'hop_postgres_connections{state="up"}' 4; then
  ok "PostgreSQL back: every connection up again within ${POLL_MS} ms"
else
  fail "PostgreSQL back: every connection up again" "$(grep postgres_connections "$T/metrics.txt" | tr '\n' '|')"
fi
if (($(metric hop_postgres_reconnects_total) >= 1)); then
  ok "hop_postgres_reconnects_total counts the reconnects ($(metric hop_postgres_reconnects_total))"
else
  fail "hop_postgres_reconnects_total counts the reconnects" "$(metric hop_postgres_reconnects_total)"
fi
if [[ -n $(metric hop_postgres_statement_errors_total) ]]; then
  ok "hop_postgres_statement_errors_total is reported"
else
  fail "hop_postgres_statement_errors_total is reported" "not in the scrape"
fi

# ---- a real Prometheus ---------------------------------------------------------------------------------------
pport=$((${METRICS_BASE##*:} + 1))
while ! _stack_port_free "$pport"; do pport=$((pport + 1)); done
cat >"$T/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: hop
    static_configs:
      - targets: ['${METRICS_BASE#http://}']
EOF
prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/prom" \
  --web.listen-address="127.0.0.1:$pport" >"$T/prometheus.log" 2>&1 &
PROM_PID=$!
PROM=http://127.0.0.1:$pport
# prom_value QUERY: the first result's value of an instant query, empty when there is none
prom_value() {
  curl -sS --max-time 5 -G "$PROM/api/v1/query" --data-urlencode "query=$1" 2>/dev/null |
    jq -r '.data.result[0].value[1] // empty' 2>/dev/null
}
prom_at_least() {
  local v
  v=$(prom_value "$1")
  [[ -n $v ]] && awk -v v="$v" -v w="$2" 'BEGIN { exit !(v + 0 >= w + 0) }'
}
if poll_until 20000 prom_at_least 'up{job="hop"}' 1; then
  ok "Prometheus scrapes the loopback site (up == 1 after ${POLL_MS} ms)"
else
  fail "Prometheus scrapes the loopback site" "up: '$(prom_value 'up{job="hop"}')'; $(tail -n 3 "$T/prometheus.log" | tr '\n' '|')"
fi
poll_until 5000 prom_at_least 'sum(hop_redirects_total)' 1 || true
before=$(prom_value 'sum(hop_redirects_total)')
for ((i = 0; i < 30; i++)); do req GET /m1; done
if [[ -n $before ]] && poll_until 10000 prom_at_least 'sum(hop_redirects_total)' $((before + 30)); then
  ok "Prometheus's query API: sum(hop_redirects_total) went from $before to $(prom_value 'sum(hop_redirects_total)') after 30 redirects"
else
  fail "Prometheus's query API sees redirects go up" "before '$before', now '$(prom_value 'sum(hop_redirects_total)')'"
fi
v=$(prom_value 'histogram_quantile(0.99, sum by (le) (rate(hop_request_duration_seconds_bucket{route="/:slug"}[30s])))')
if [[ $v =~ ^[0-9.e+-]+$ ]]; then
  ok "Prometheus computes the redirect's p99 from the histogram ($v s)"
else
  fail "Prometheus computes the redirect's p99 from the histogram" "'$v'"
fi
# the shipped dashboard and alert rules: every query runs on this Prometheus, every metric they name exists
if out=$(promtool check rules "$STACK_REPO/docs/hop-alerts.yml" 2>&1); then
  ok "promtool check rules docs/hop-alerts.yml ($(grep -o '[0-9]* rules found' <<<"$out"))"
else
  fail "promtool check rules docs/hop-alerts.yml" "$(tr '\n' '|' <<<"$out")"
fi
{
  jq -r '.panels[].targets[].expr' "$STACK_REPO/docs/grafana-hop.json"
  awk '/^ *expr: >-/ { f = 1; e = ""; next } f && /^ *[a-z_]+:/ { print e; f = 0 } f { sub(/^ +/, ""); e = e " " $0 }
       /^ *expr: [^>]/ { sub(/^ *expr: /, ""); print }' "$STACK_REPO/docs/hop-alerts.yml"
} | sed -e 's/\$__rate_interval/30s/g' -e 's/\$instance/.*/g' -e 's/\$route/.*/g' >"$T/queries.txt"
bad=""
while IFS= read -r q; do
  [[ -n $q ]] || continue
  st=$(curl -sS --max-time 5 -G "$PROM/api/v1/query" --data-urlencode "query=$q" | jq -r .status 2>/dev/null) || st=""
  [[ $st == success ]] || bad+="$q; "
done <"$T/queries.txt"
if [[ -z $bad && $(wc -l <"$T/queries.txt") -ge 20 ]]; then
  ok "the dashboard's and the alert rules' $(wc -l <"$T/queries.txt") queries all run on Prometheus"
else
  fail "the dashboard's and the alert rules' queries run on Prometheus" "${bad:0:400}"
fi
missing=""
for m in $(grep -o 'hop_[a-z_]*' "$T/queries.txt" | sed 's/_bucket$//' | sort -u); do
  grep -q "^# TYPE $m " "$T/metrics.txt" || missing+="$m "
done
if [[ -z $missing ]]; then ok "every metric the dashboard and the rules use is in the scrape"; else fail "every metric the dashboard and the rules use is in the scrape" "$missing"; fi
kill "$PROM_PID" 2>/dev/null || true
wait "$PROM_PID" 2>/dev/null || true
PROM_PID=""

# ---- hop status under load -----------------------------------------------------------------------------------
wrk -t1 -c16 -d6s "$BASE/m1" >"$T/wrk.out" 2>&1 &
LOAD_PID=$!
sleep 1
if "$HOP_BIN" status --socket "$T/hop.sock" >"$T/status.txt" 2>&1; then
  ok "hop status answers under load"
else
  fail "hop status answers under load" "$(head -n 3 "$T/status.txt" | tr '\n' '|')"
fi
if grep -Eq '^workers: +3 configured, 3 alive, [1-3] busy' "$T/status.txt"; then
  ok "hop status: the workers line"
else
  fail "hop status: the workers line" "$(grep workers: "$T/status.txt")"
fi
if (($(grep -Ec '^[0-2] +[0-9]+ +(busy|idle) ' "$T/status.txt") == 3)); then
  ok "hop status: a row per worker with its state"
else
  fail "hop status: a row per worker with its state" "$(tr '\n' '|' <"$T/status.txt")"
fi
if grep -Eq '^listen queue: +[0-9]+ waiting \(limit 4096\)' "$T/status.txt"; then
  ok "hop status: the listen queue"
else
  fail "hop status: the listen queue" "$(grep queue "$T/status.txt")"
fi
if grep -q '^hop_redirects_total{source="cache"} ' "$T/status.txt"; then
  ok "hop status: the application's counters"
else
  fail "hop status: the application's counters" "$(tail -n 5 "$T/status.txt" | tr '\n' '|')"
fi
if HOP_LISTEN=$T/hop.sock "$HOP_BIN" status --json >"$T/status.json" 2>&1; then
  BODY=$(<"$T/status.json")
  expect_jeq "hop status --json (HOP_LISTEN): workers alive" '.workers_alive' 3
  expect_jeq "hop status --json: one entry per worker" '.workers | length' 3
  expect_jeq "hop status --json: busy is at least the worker answering" '.workers_busy >= 1' true
  expect_jeq "hop status --json: the workers' requests add up to the pool's" \
    '([.workers[].requests] | add) >= .requests - 16' true
  expect_jeq "hop status --json: requests under load" '.requests > 100' true
  expect_jeq "hop status --json: uptime and start" '(.uptime_seconds >= 1) and (.started_at | test("Z$"))' true
else
  fail "hop status --json" "$(head -n 3 "$T/status.json" | tr '\n' '|')"
fi
wait "$LOAD_PID" 2>/dev/null || true
LOAD_PID=""
if grep -Eq 'Requests/sec' "$T/wrk.out"; then
  ok "the load ran ($(awk '/Requests\/sec/ { print $2 }' "$T/wrk.out") req/s)"
else
  fail "the load ran" "$(tr '\n' '|' <"$T/wrk.out")"
fi
"$HOP_BIN" status --metrics --socket "$T/hop.sock" >"$T/socket-metrics.txt" 2>&1 || true
if promtool check metrics <"$T/socket-metrics.txt" >/dev/null 2>&1 && grep -q '^hop_workers_alive 3$' "$T/socket-metrics.txt"; then
  ok "hop status --metrics: the exposition over the socket, promtool-clean"
else
  fail "hop status --metrics: the exposition over the socket" "$(head -n 3 "$T/socket-metrics.txt" | tr '\n' '|')"
fi
rc=0
"$HOP_BIN" status --json --metrics --socket "$T/hop.sock" >/dev/null 2>&1 || rc=$?
expect_eq "hop status --json --metrics: a usage error" "$rc" 2
body=$(curl -sS "$METRICS_BASE/status") || body=""
BODY=$body
expect_jeq "the loopback site's /status is the same status" '.pool' '"hop"'
if out=$("$HOP_BIN" status --socket "$T/nothing.sock" 2>&1); then
  fail "hop status without a pool fails" "exit 0: $out"
else
  [[ $out == *"cannot reach the pool"* ]] && ok "hop status without a pool says so and fails" ||
    fail "hop status without a pool says why" "$out"
fi

# ---- systemd's notifications ---------------------------------------------------------------------------------
if grep -q ' READY=1$' "$N/notify.log"; then ok "sd_notify: READY=1"; else fail "sd_notify: READY=1" "$(head -n 3 "$N/notify.log" | tr '\n' '|')"; fi
if grep -q ' STATUS=3 of 3 workers alive$' "$N/notify.log"; then
  ok "sd_notify: STATUS=3 of 3 workers alive"
else
  fail "sd_notify: STATUS= with the worker count" "$(grep STATUS "$N/notify.log" | tr '\n' '|')"
fi
if grep -q ' STATUS=2 of 3 workers alive$' "$N/notify.log"; then
  ok "sd_notify: STATUS= follows a worker's death (2 of 3)"
else
  fail "sd_notify: STATUS= follows a worker's death" "$(grep STATUS "$N/notify.log" | tr '\n' '|')"
fi
# WATCHDOG_USEC=1000000: a ping every 500 ms; no gap may reach the second after which systemd would act
read -r pings maxgap < <(awk '/ WATCHDOG=1$/ { if (last) { g = $1 - last; if (g > m) m = g } last = $1; n++ }
  END { printf "%d %d\n", n, m * 1000 }' "$N/notify.log")
span=$(awk '/ WATCHDOG=1$/ { if (!f) f = $1; l = $1 } END { printf "%d\n", (l - f) * 1000 }' "$N/notify.log")
if ((pings >= 10 && maxgap < 1000)) && awk -v n="$pings" -v s="$span" 'BEGIN { exit !(s / (n - 1) >= 450 && s / (n - 1) <= 600) }'; then
  ok "sd_notify: WATCHDOG=1 every $((span / (pings - 1))) ms for WATCHDOG_USEC=1000000 ($pings pings, longest gap $maxgap ms)"
else
  fail "sd_notify: WATCHDOG=1 at half of WATCHDOG_USEC" "$pings pings over $span ms, longest gap $maxgap ms"
fi

# ---- logs: plain logfmt here, journald's priorities when stderr is the journal, HOP_ACCESS_LOG -----------------
if grep -qv '^level=' "$T/hop.log"; then
  fail "stderr not the journal: plain logfmt lines" "$(grep -v '^level=' "$T/hop.log" | head -n 2 | tr '\n' '|')"
else
  ok "stderr not the journal: plain logfmt lines"
fi
: >"$T/quiet.log"
js=$(stat -c '%d:%i' "$T/quiet.log")
JOURNAL_STREAM=$js HOP_ACCESS_LOG=off HOP_WORKERS=1 stack_pool_start quiet
"$HOP_BIN" status --socket "$T/quiet.sock" >/dev/null 2>&1 || fail "hop status to the second pool" "failed"
"$HOP_BIN" status --socket "$T/quiet.sock" >/dev/null 2>&1 || true
stack_pool_stop quiet
if grep -q '^<6>level=info .*msg=ready' "$T/quiet.log" && grep -q '^<6>level=info .*msg=stopped' "$T/quiet.log" &&
  ! grep -qv '^<[0-7]>level=' "$T/quiet.log"; then
  ok "stderr the journal (JOURNAL_STREAM): every line has its syslog priority (<6> for info)"
else
  fail "stderr the journal: priority prefixes" "$(head -n 3 "$T/quiet.log" | tr '\n' '|')"
fi
expect_eq "HOP_ACCESS_LOG=off: no access line" "$(grep -c 'msg=access' "$T/quiet.log" || true)" 0
if out=$(HOP_ACCESS_LOG=sometimes "$HOP_BIN" serve --check 2>&1); then
  fail "HOP_ACCESS_LOG=sometimes is refused" "exit 0: $out"
else
  [[ $out == *"HOP_ACCESS_LOG=sometimes"* ]] && ok "HOP_ACCESS_LOG=sometimes is refused with the reason" ||
    fail "HOP_ACCESS_LOG=sometimes is refused with the reason" "$out"
fi

expect_eq "no worker died but the one killed" "$(worker_deaths)" 1
finish

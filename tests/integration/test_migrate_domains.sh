#!/usr/bin/env bash
# A database made by the previous release, migrated by this one: the release's binary is built from git
# (OLD_REV, default: the parent of the commit that added db/migrations/0005_domains.sql, the last main before
# domains) into the temp dir, makes links of two owners with their keys, link options and visits through
# Caddy, and stops; then this binary migrates the same database and must answer every slug as before, with
# every visit (per link, day and referrer), option and key intact, find them by tag and text; and the first
# `hop domains add` moves all the links to that domain, slugs and visits intact.
set -euo pipefail

# shellcheck source=tests/lib/stack.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/stack.sh"
# shellcheck source=tests/lib/prod.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/prod.sh"

# the oldest commit that added the domains migration (a merge of it adds it again), and its first parent
added=$(git -C "$STACK_REPO" log --diff-filter=A --format=%H -- db/migrations/0005_domains.sql 2>/dev/null | tail -n 1)
OLD_REV=${OLD_REV:-$(git -C "$STACK_REPO" rev-parse --short "${added:-none}^" 2>/dev/null || echo none)}

prod_init
export HOP_WORKERS=2
SOCK=$T/hop.sock

# ---- the previous release, built from git -------------------------------------------------------------------
mkdir -p "$T/old"
if ! git -C "$STACK_REPO" archive "$OLD_REV" 2>"$T/old-build.log" | tar -x -C "$T/old" 2>>"$T/old-build.log"; then
  prod_abort "git archive $OLD_REV failed (this suite needs the repository's history)"
fi
t0=$EPOCHREALTIME
make -C "$T/old" -j2 build/hop >>"$T/old-build.log" 2>&1 || prod_abort "the $OLD_REV tree did not build"
OLD=$T/old/build/hop
ok "built $OLD_REV in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s"
if [[ ! -e $T/old/db/migrations/0005_domains.sql ]]; then
  ok "$OLD_REV has no domains migration"
else
  fail "$OLD_REV has no domains migration" "it does: pick an older OLD_REV"
fi

prod_pg_start
"$OLD" migrate >"$T/migrate-old.log" 2>&1 || prod_abort "$OLD_REV: hop migrate failed"

prod_spawn hop-old env HOP_LISTEN="$SOCK" "$OLD" serve
OLD_PID=$PROD_PID
prod_wait_log "$T/hop-old.log" 'msg=ready' 1 20 "$OLD_PID" || prod_abort "$OLD_REV: hop serve was not ready"
prod_caddy "$STACK_REPO/caddy/Caddyfile.dev" HOP_SOCKET="$SOCK"
KEY_A=$("$OLD" keys create alice | tail -n 1)
KEY_B=$("$OLD" keys create bob | tail -n 1)

# ---- data made by the previous release ---------------------------------------------------------------------
mk() { # KEY JSON: create; prints the slug
  API_KEY=$1 req POST /api/links -H 'Content-Type: application/json' --data-binary "$2"
  [[ $STATUS == 201 ]] || prod_abort "$OLD_REV: create $2: $(_stack_last)"
  jq -r .slug <<<"$BODY"
}
SLUGS=()
SLUGS+=("$(mk "$KEY_A" '{"url":"https://example.com/a","slug":"sale"}')")
SLUGS+=("$(mk "$KEY_A" '{"url":"https://example.com/b?x=1&y=2","redirect":308}')")
SLUGS+=("$(mk "$KEY_A" '{"url":"https://example.com/c","slug":"Case-Sensitive_1","redirect":301}')")
SLUGS+=("$(mk "$KEY_A" '{"url":"https://example.com/d","expires_at":"2031-01-01T00:00:00Z","redirect":307}')")
SLUGS+=("$(mk "$KEY_B" '{"url":"https://example.org/e","slug":"bobs"}')")
SLUGS+=("$(mk "$KEY_B" '{"url":"https://example.org/f"}')")
for i in 1 2 3 4; do SLUGS+=("$(mk "$KEY_B" "{\"url\":\"https://example.org/many/$i\"}")"); done
# every link option the previous release had, on a link that still redirects to a plain client
SLUGS+=("$(mk "$KEY_A" '{"url":"https://example.com/opt","slug":"opts","max_visits":50,"forward_query":true,"targets":{"ios":"https://apps.example/ios"},"tags":["spring","launch"],"title":"The Spring Launch","expired_url":"https://example.com/over"}')")
# and a password: its form answers, not a redirect, so it stays out of SLUGS and its visits stay 0
PW=$(mk "$KEY_A" '{"url":"https://example.com/secret","slug":"pw","password":"correct horse","tags":["launch"]}')
GONE=$(mk "$KEY_A" '{"url":"https://example.com/off","slug":"off"}')
API_KEY=$KEY_A req PATCH "/api/links/$GONE" -H 'Content-Type: application/json' --data-binary '{"disabled":true}'
[[ $STATUS == 200 ]] || prod_abort "$OLD_REV: disable: $(_stack_last)"
# link i gets i + 1 visits, every other one with a Referer
for ((i = 0; i < ${#SLUGS[@]}; i++)); do
  for ((v = 0; v <= i; v++)); do
    if ((v % 2)); then
      req GET "/${SLUGS[i]}" -e "https://ref$((i % 3)).example/page"
    else
      req GET "/${SLUGS[i]}"
    fi
  done
done
# snapshot: the links as their owners see them, and the visit rows
links_of() { # KEY: every link of KEY's owner, projected to what the previous release showed, by slug
  API_KEY=$1 req GET '/api/links?limit=200'
  jq -c '[.links[] | {slug, url, redirect, expires_at, disabled, visits, created_at, password_protected,
    max_visits, visits_left, forward_query, targets, tags, title, expired_url}] | sort_by(.slug)' <<<"$BODY" 2>/dev/null ||
    echo "no JSON: $(_stack_last)"
}
visit_rows() { psql_q "SELECT l.slug, v.day, v.host, v.n FROM visits v JOIN links l ON l.id = v.link_id ORDER BY 1, 2, 3"; }
# the same rows as this release keeps them, per referrer host and UTC day, as humans: closed days as day rows
# (0006), the days not closed yet (today's) as hours (0016)
visit_rows_now() {
  psql_q "SELECT l.slug, v.day, v.value, sum(v.humans) FROM (SELECT link_id, day, value, humans FROM visit_days
          WHERE dim = 1 UNION ALL SELECT link_id, (bucket AT TIME ZONE 'UTC')::date, value, humans FROM visit_counts
          WHERE dim = 1) v JOIN links l ON l.id = v.link_id GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
}
# this release counts curl as a bot: the checks below follow links as a browser, so they count as visits
BROWSER_UA='Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0'
ids() { psql_q "SELECT id, slug, owner_id FROM links ORDER BY id"; }
sleep 2.2 # visits reach PostgreSQL within 2 s
A0=$(links_of "$KEY_A")
B0=$(links_of "$KEY_B")
prod_stop "$OLD_PID" TERM 15
[[ $PROD_EXIT == 0 ]] || prod_abort "$OLD_REV: hop serve did not exit 0 on SIGTERM"
VROWS=$(visit_rows)
IDS=$(ids)
TOTAL=$(psql_q "SELECT sum(n) FROM visits")
expect_eq "$OLD_REV counted every visit ($((${#SLUGS[@]} * (${#SLUGS[@]} + 1) / 2)))" "$TOTAL" "$((${#SLUGS[@]} * (${#SLUGS[@]} + 1) / 2))"

# ---- this release migrates the same database ---------------------------------------------------------------
if "$HOP_BIN" migrate >"$T/migrate-new.log" 2>&1; then
  ok "this release's hop migrate on $OLD_REV's database"
else
  fail "this release's hop migrate on $OLD_REV's database" "$(tail -n 3 "$T/migrate-new.log" | tr '\n' '|')"
fi
expect_eq "the migrations are recorded (domains among them)" "$(psql_q "SELECT count(*) FROM domains")" 0
expect_eq "visit rows carried into visit_days by the migration" "$(visit_rows_now)" "$VROWS"
expect_eq "link ids, slugs and owners unchanged" "$(ids)" "$IDS"

# start this release on the same socket, behind the same Caddy; the old links need no domain
prod_spawn hop env HOP_LISTEN="$SOCK" "$HOP_BIN" serve
HOP_PID=$PROD_PID
prod_wait_log "$T/hop.log" 'msg=ready' 1 20 "$HOP_PID" || prod_abort "hop serve was not ready"
API_KEY=$KEY_A req GET /api/links
expect_status "$OLD_REV's keys authenticate" 200
expect_eq "migrated: alice's links exactly as $OLD_REV showed them (visits, dates and all)" "$(links_of "$KEY_A")" "$A0"
expect_eq "migrated: bob's links exactly as $OLD_REV showed them" "$(links_of "$KEY_B")" "$B0"
# every slug answers exactly as it did
redirects_all() { # WANT_VISITS_DELTA: every slug redirects to its url with its status; the disabled one is 410
  local s want url code bad=0
  for s in "${SLUGS[@]}"; do
    url=$(jq -r --arg s "$s" '.[] | select(.slug == $s) | .url' <<<"$A0$B0" 2>/dev/null | head -n 1)
    want=$(jq -r --arg s "$s" '.[] | select(.slug == $s) | .redirect' <<<"$A0$B0" 2>/dev/null | head -n 1)
    req GET "/$s" -A "$BROWSER_UA"
    if [[ $STATUS != "$want" || $(header location) != "$url" ]]; then
      bad=1
      fail "$1: /$s redirects as before" "want $want $url; got $STATUS $(header location)"
    fi
  done
  req GET "/$GONE"
  [[ $STATUS == 410 ]] || { bad=1; fail "$1: the disabled link is still 410" "$(_stack_last)"; }
  ((bad)) || ok "$1: all ${#SLUGS[@]} slugs redirect as before (status and Location), the disabled one is 410"
}
redirects_all "migrated, no domain"

# visits: each link had i + 1; the checks above added one to each (a disabled link's 410 counts none)
plus() {
  jq -c --argjson d "$2" 'map(if .disabled or .password_protected then . else
    .visits += $d | if .visits_left then .visits_left -= $d else . end end)' <<<"$1"
}
sleep 2.2
expect_eq "migrated: alice's visits unchanged (+1 for each check)" "$(links_of "$KEY_A")" "$(plus "$A0" 1)"
expect_eq "migrated: bob's visits unchanged (+1 for each check)" "$(links_of "$KEY_B")" "$(plus "$B0" 1)"
API_KEY=$KEY_A req GET '/api/links/sale'
expect_json "migrated: domain is null before any domain exists" .domain null
# finding links reads columns and indexes the previous release did not have: filled for its rows
API_KEY=$KEY_A req GET '/api/links?tag=launch'
expect_jeq "migrated: ?tag= finds the previous release's tagged links" '[.links[].slug] | sort' '["opts","pw"]'
API_KEY=$KEY_A req GET '/api/links?q=spring%20LAUNCH'
expect_jeq "migrated: ?q= finds a title the previous release stored" '[.links[].slug]' '["opts"]'
API_KEY=$KEY_A req GET '/api/tags'
expect_jeq "migrated: the tags and their counts" '[.tags[] | [.tag, .links]]' '[["launch",2],["spring",1]]'

# ---- the first domain adopts them ----------------------------------------------------------------------------
out=$("$HOP_BIN" domains add localhost 2>&1) || true
if grep -q "^$((${#SLUGS[@]} + 2)) existing links moved to localhost$" <<<"$out"; then
  ok "hop domains add localhost: all $((${#SLUGS[@]} + 2)) links moved to it"
else
  fail "hop domains add localhost: all links moved to it" "${out//$'\n'/|}"
fi
expect_eq "adopted: link ids, slugs and owners unchanged" "$(ids)" "$IDS"
expect_eq "adopted: every link is on localhost" "$(psql_q "SELECT count(*) FROM links l JOIN domains d ON d.id = l.domain_id WHERE d.name = 'localhost'")" "$((${#SLUGS[@]} + 2))"
sleep 0.3
expect_eq "adopted: alice's links, slugs and visits intact" "$(links_of "$KEY_A")" "$(plus "$A0" 1)"
expect_eq "adopted: bob's links, slugs and visits intact" "$(links_of "$KEY_B")" "$(plus "$B0" 1)"
API_KEY=$KEY_A req GET '/api/links/sale'
expect_jeq "adopted: domain and short_url on localhost" '[.domain, .short_url]' "[\"localhost\",\"https://localhost:${BASE##*:}/sale\"]"
API_KEY=$KEY_A req GET '/api/links/Case-Sensitive_1/stats?days=2'
expect_jeq "adopted: stats total as before (+1), referrers kept" '[.total, (.referrers | map([.host, .visits]))]' \
  '[4,[["",3],["ref2.example",1]]]'
redirects_all "adopted by localhost"
sleep 2.2
expect_eq "adopted: visits count on (+2 for the two checks)" "$(links_of "$KEY_B")" "$(plus "$B0" 2)"

# the password the previous release hashed still opens its link (and a wrong one does not)
req POST "/$PW" -H 'Content-Type: application/x-www-form-urlencoded' --data-binary 'password=wrong%20horse'
expect_status "adopted: a wrong password for the previous release's link is a 401" 401
req POST "/$PW" -H 'Content-Type: application/x-www-form-urlencoded' --data-binary 'password=correct%20horse'
expect_eq "adopted: its password still opens it" "$STATUS $(header location)" "303 https://example.com/secret"

prod_stop "$HOP_PID" TERM 15
if [[ $PROD_EXIT == 0 ]]; then ok "hop: SIGTERM: exit 0"; else fail "hop: SIGTERM: exit 0" "exit status $PROD_EXIT"; fi
rm -rf "$T/old"
prod_finish

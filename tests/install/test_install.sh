#!/usr/bin/env bash
# `make install` into a temporary DESTDIR, with the default PREFIX and with another one: every file in its
# place with its mode, the paths inside the units and the Caddyfile following PREFIX, the installed
# Caddyfile valid for Caddy, and the man page rendering cleanly and naming every command and variable that
# `hop --help` lists. `make deploy` without HOST refuses with its usage.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
passed=0
failed=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hop-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

ok() {
  passed=$((passed + 1))
  echo "ok   - $1"
}
fail() {
  failed=$((failed + 1))
  echo "FAIL - $1: ${2:-}"
}

# expect_file PATH MODE
expect_file() {
  local mode
  mode=$(stat -c '%a' "$1" 2>/dev/null) || mode=missing
  if [[ $mode == "$2" ]]; then
    ok "${1#"$tmp"} ($2)"
  else
    fail "${1#"$tmp"} ($2)" "mode: $mode"
  fi
}

# install_into DIR PREFIX
install_into() {
  make -s -C "$repo" --no-print-directory install DESTDIR="$1" PREFIX="$2" >"$tmp/make.log" 2>&1 ||
    fail "make install DESTDIR=… PREFIX=$2" "$(tail -n 5 "$tmp/make.log" | tr '\n' '|')"
}

# ---- the default PREFIX ----------------------------------------------------------------------------------
d=$tmp/default
install_into "$d" /usr/local
expect_file "$d/usr/local/bin/hop" 755
expect_file "$d/usr/local/lib/systemd/system/hop.socket" 644
expect_file "$d/usr/local/lib/systemd/system/hop.service" 644
expect_file "$d/usr/local/share/hop/hop-remote-db.conf" 644
expect_file "$d/usr/local/share/hop/Caddyfile" 644
expect_file "$d/usr/local/share/hop/site/index.html" 644
for f in index.html app.js app.css icon.svg vendor/uPlot.iife.min.js vendor/uPlot.min.css; do
  expect_file "$d/usr/local/share/hop/app/$f" 644
done
expect_file "$d/usr/local/share/man/man1/hop.1" 644
if cmp -s "$d/usr/local/lib/systemd/system/hop.service" "$repo/systemd/hop.service" &&
  cmp -s "$d/usr/local/share/hop/Caddyfile" "$repo/caddy/Caddyfile"; then
  ok "PREFIX=/usr/local: units and Caddyfile installed as they are in the tree"
else
  fail "PREFIX=/usr/local: units and Caddyfile installed as they are in the tree" "they differ"
fi
if "$d/usr/local/bin/hop" version >/dev/null; then
  ok "the installed binary runs"
else
  fail "the installed binary runs" "hop version failed"
fi
if out=$(HOP_DOMAIN=sho.rt.example caddy adapt --adapter caddyfile --config "$d/usr/local/share/hop/Caddyfile" 2>&1 >/dev/null); then
  ok "the installed Caddyfile adapts"
else
  fail "the installed Caddyfile adapts" "$out"
fi

# ---- another PREFIX: paths inside follow it ---------------------------------------------------------------
o=$tmp/opt
install_into "$o" /opt/hop
if grep -qx 'ExecStart=/opt/hop/bin/hop serve' "$o/opt/hop/lib/systemd/system/hop.service"; then
  ok "PREFIX=/opt/hop: ExecStart=/opt/hop/bin/hop serve"
else
  fail "PREFIX=/opt/hop: ExecStart=/opt/hop/bin/hop serve" "$(grep ExecStart "$o/opt/hop/lib/systemd/system/hop.service")"
fi
if grep -qF "{\$HOP_SITE_ROOT:/opt/hop/share/hop/site}" "$o/opt/hop/share/hop/Caddyfile"; then
  ok "PREFIX=/opt/hop: the Caddyfile serves / from /opt/hop/share/hop/site"
else
  fail "PREFIX=/opt/hop: the Caddyfile serves / from /opt/hop/share/hop/site" "$(grep HOP_SITE_ROOT "$o/opt/hop/share/hop/Caddyfile")"
fi

if grep -qF "{\$HOP_APP_ROOT:/opt/hop/share/hop/app}" "$o/opt/hop/share/hop/Caddyfile"; then
  ok "PREFIX=/opt/hop: the Caddyfile serves the web page from /opt/hop/share/hop/app"
else
  fail "PREFIX=/opt/hop: the Caddyfile serves the web page from /opt/hop/share/hop/app" "$(grep HOP_APP_ROOT "$o/opt/hop/share/hop/Caddyfile")"
fi

# ---- the man page ------------------------------------------------------------------------------------------
if command -v man >/dev/null 2>&1; then
  warn=$(LC_ALL=C.UTF-8 MANWIDTH=100 man --warnings -l "$repo/docs/hop.1" 2>&1 >/dev/null) || warn="man failed: $warn"
  if [[ -z $warn ]]; then
    ok "docs/hop.1 renders without warnings"
  else
    fail "docs/hop.1 renders without warnings" "$warn"
  fi
else
  fail "docs/hop.1 renders without warnings" "man is not installed (scripts/deps.sh build run test installs man-db)"
fi
help=$("$repo/build/hop" --help)
missing=()
while read -r v; do
  grep -q "^\.B $v\$" "$repo/docs/hop.1" || missing+=("$v")
done < <(grep -oE '\bHOP_[A-Z_]+' <<<"$help" | sort -u)
# commands: the first word of each line under "commands:", with the second for "keys ..."
while read -r cmd; do
  grep -qF -- "$cmd" "$repo/docs/hop.1" || missing+=("$cmd")
done < <(awk '/^commands:/ { on = 1; next } /^$/ { on = 0 } on && /^  [a-z]/ {
    w = $1; if (w == "keys") w = w " " $2; sub(/,$/, "", w); print w }' <<<"$help")
if ((${#missing[@]} == 0)); then
  ok "docs/hop.1 covers every command and variable of hop --help"
else
  fail "docs/hop.1 covers every command and variable of hop --help" "missing: ${missing[*]}"
fi

# ---- deploy refuses without HOST ----------------------------------------------------------------------------
rc=0
out=$(make -s -C "$repo" --no-print-directory deploy 2>&1) || rc=$?
if [[ $rc != 0 && $out == *"usage: make deploy HOST="* ]]; then
  ok "make deploy without HOST prints its usage and fails"
else
  fail "make deploy without HOST prints its usage and fails" "rc=$rc: $out"
fi

echo "$passed passed, $failed failed"
((failed == 0 && passed > 0))

#!/usr/bin/env bash
# The web page (web/, served by Caddy at /_hop/app/) in a real browser: Debian's Chromium driven by
# puppeteer-core (pinned in tests/browser/package-lock.json, which downloads no browser) against the real
# stack over HTTPS. tests/browser/run.mjs signs in (a wrong key, then the right one from the keyboard),
# shortens and copies, shows API errors at their fields, finds by search and by tag, edits, disables and
# sees the 410, downloads the QR code and decodes it with zbarimg, reads the visits in the chart's data,
# deletes, signs out and sees the API refuse the old cookie, and sees a revoked key end the session; on every
# page no console error, no failed request, no request to another origin, no serious or critical axe-core
# violation; the first load transfers at most 100 KB. Screenshots (phone and desktop) go to build/browser/.
set -euo pipefail

# shellcheck source=tests/lib/stack.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/stack.sh"

OUT=${BROWSER_OUT:-$STACK_REPO/build/browser}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

for tool in node npm zbarimg openssl "$CHROMIUM"; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    fail "$tool is installed" "make deps installs it (scripts/deps.sh)"
    finish
  fi
done
if [[ ! -f $STACK_REPO/build/web/index.html ]]; then
  fail "the web page is built" "make web"
  finish
fi
# the pinned tools; PUPPETEER_SKIP_DOWNLOAD: puppeteer-core downloads nothing anyway, and nothing else may
if ! (cd "$STACK_REPO/tests/browser" && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >/dev/null); then
  fail "npm ci in tests/browser" "see above"
  finish
fi
ok "the browser suite's tools are installed from tests/browser/package-lock.json"

stack_start
OWNER=browser-alice
KEY=$(make_key "$OWNER")
mkdir -p "$OUT"

rc=0
# BASE, CACERT and HOP_DB come exported from stack_start
out=$(KEY=$KEY OWNER=$OWNER HOP_BIN=$HOP_BIN OUT=$OUT CHROMIUM=$CHROMIUM NODE_EXTRA_CA_CERTS=$CACERT timeout 300 node "$STACK_REPO/tests/browser/run.mjs" 2>&1) || rc=$?
while IFS= read -r line; do
  case $line in
    "ok "*) ok "${line#ok }" ;;
    "FAIL "*)
      rest=${line#FAIL }
      fail "${rest%%$'\t'*}" "${rest#*$'\t'}"
      ;;
    *) [[ -z $line ]] || echo "$line" ;;
  esac
done <<<"$out"
if ((rc != 0)) && ((STACK_FAILED == 0)); then
  fail "tests/browser/run.mjs exits 0" "exit status $rc"
fi
echo "screenshots: $OUT (make screenshots copies them into docs/screenshots/)"
finish

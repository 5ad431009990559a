#!/usr/bin/env bash
# Installs the Debian 12 packages hop needs to build, test and run, when any is missing.
# Quiet when everything is already installed; prints what it installs otherwise.
set -euo pipefail

PACKAGES="build-essential pkg-config libfcgi-dev libpq-dev libjson-c-dev liburiparser-dev libsystemd-dev libssl-dev libsodium-dev libqrencode-dev libpng-dev check libsubunit-dev caddy postgresql curl valgrind clang jq clang-format cppcheck shellcheck libclang-rt-14-dev spawn-fcgi wrk pebble systemd nghttp2-client openssl python3 nodejs chromium libnss3-tools zbar-tools"
# npm (the web page's pinned packages): Debian ships it apart from nodejs; NodeSource's nodejs includes it.
command -v npm >/dev/null 2>&1 || PACKAGES+=" npm"

missing=()
for pkg in $PACKAGES; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  if [[ $status != installed ]]; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

sudo=()
if ((EUID != 0)); then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "deps.sh: missing packages (${missing[*]}) and not root, and sudo is not installed" >&2
    exit 1
  fi
  sudo=(sudo)
fi

echo "deps.sh: installing ${missing[*]}"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"

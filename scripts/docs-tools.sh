#!/usr/bin/env bash
# Installs the docs tools pinned in docs/package-lock.json (Redocly CLI, js-yaml, ajv) into docs/node_modules
# when they are missing or stale. Exit 0: ready. Exit 3: this machine has no usable Node.js (the reason is
# printed); callers skip with that reason, or fail under CI. Any other status: the install failed.
set -euo pipefail

docs=$(cd "$(dirname "${BASH_SOURCE[0]}")/../docs" && pwd)
cd "$docs"

# @redocly/cli 2.x declares node >=20.19 (engineStrict). Debian 12's own nodejs is 18.19, too old, so
# scripts/deps.sh does not install it; the machine image's Node.js (20.x from NodeSource) is what we use.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "docs-tools: node and npm are not installed; the OpenAPI tools need Node.js >= 20.19 with npm (Debian 12's nodejs 18 is too old)" >&2
  exit 3
fi
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'; then
  echo "docs-tools: Node.js $(node --version) is too old; the OpenAPI tools need Node.js >= 20.19" >&2
  exit 3
fi

# One install at a time, also across checkouts' concurrent `make check` runs in this tree.
exec 9<package-lock.json
flock 9
stamp=node_modules/.hop-installed
want=$(cat package.json package-lock.json | sha256sum)
if [[ -f $stamp && $(<"$stamp") == "$want" ]]; then
  exit 0
fi
echo "docs-tools: npm ci in docs/ (Redocly CLI, js-yaml, ajv, as pinned in docs/package-lock.json)"
npm ci --no-audit --no-fund --loglevel=error
echo "$want" >"$stamp"

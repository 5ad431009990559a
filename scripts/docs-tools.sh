#!/usr/bin/env bash
# Installs the docs tools pinned in docs/package-lock.json (Redocly CLI, js-yaml, ajv) into docs/node_modules
# when they are missing or stale. Exit 0: ready. Any other status: they cannot be used here, and the reason
# is printed; callers (make openapi-lint, tests/integration/test_openapi.sh) then fail, everywhere.
set -euo pipefail

docs=$(cd "$(dirname "${BASH_SOURCE[0]}")/../docs" && pwd)
cd "$docs"

# Node.js and npm come from Debian (scripts/deps.sh test: nodejs 18.20 and npm 9.2 on Debian 12) or from
# any newer Node.js on PATH. The pinned @redocly/cli 2.77.0 declares node >=20.19 and npm >=10, but its
# bundle lints docs/openapi.yaml on Debian 12's Node 18.20.4 exactly as on Node 20 (checked: same result,
# same rules), and js-yaml 5 and ajv 8 declare no engine: npm ci runs with engine-strict off, and
# `make openapi-lint` itself shows whether that still holds after any upgrade.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "docs-tools: node and npm are not installed; the OpenAPI tools need Node.js >= 18.19 with npm: run scripts/deps.sh build run test (Debian's nodejs and npm)" >&2
  exit 1
fi
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 18 || (a === 18 && b >= 19) ? 0 : 1)'; then
  echo "docs-tools: Node.js $(node --version) is too old; the OpenAPI tools need Node.js >= 18.19 (Debian 12 has 18.20)" >&2
  exit 1
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
npm ci --no-audit --no-fund --loglevel=error --engine-strict=false
echo "$want" >"$stamp"

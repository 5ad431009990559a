# docs/openapi.yaml: `make openapi-lint` lints it with Redocly CLI (pinned in docs/package-lock.json and
# installed into docs/node_modules by scripts/docs-tools.sh); tests/integration/test_openapi.sh checks it
# against a running server. Needs Node.js >= 18.19 with npm (Debian 12's, from scripts/deps.sh): without
# them the lint fails with the reason, never skips.

.PHONY: openapi-lint docs-tools
CHECK_EXTRA += openapi-lint

docs-tools:
	@scripts/docs-tools.sh

openapi-lint:
	@echo "== openapi-lint (docs/openapi.yaml)"
	@scripts/docs-tools.sh || { echo "openapi-lint: FAILED: the OpenAPI tools cannot run here (see above)"; exit 1; }; \
	if REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true docs/node_modules/.bin/redocly lint \
	     docs/openapi.yaml --config docs/redocly.yaml; then \
	  echo "openapi-lint: passed: 0 problems (@redocly/cli $$(node -p 'require("./docs/node_modules/@redocly/cli/package.json").version'), rules in docs/redocly.yaml; known exceptions in docs/.redocly.lint-ignore.yaml)"; \
	else \
	  echo "openapi-lint: FAILED: docs/openapi.yaml has the problems above"; exit 1; \
	fi

# docs/openapi.yaml: `make openapi-lint` lints it with Redocly CLI (pinned in docs/package-lock.json and
# installed into docs/node_modules by scripts/docs-tools.sh); tests/integration/test_openapi.sh checks it
# against a running server. Needs Node.js >= 20.19: without it the lint is skipped with the reason, except
# under CI (CI=true), where that is a failure.

.PHONY: openapi-lint docs-tools
CHECK_EXTRA += openapi-lint

docs-tools:
	@scripts/docs-tools.sh

openapi-lint:
	@echo "== openapi-lint (docs/openapi.yaml)"
	@rc=0; scripts/docs-tools.sh || rc=$$?; \
	if [ $$rc -eq 3 ]; then \
	  if [ "$${CI:-}" = true ]; then echo "openapi-lint: FAILED: no usable Node.js under CI (see above)"; exit 1; fi; \
	  echo "openapi-lint: SKIPPED: no usable Node.js (see above)"; exit 0; \
	fi; \
	[ $$rc -eq 0 ] || { echo "openapi-lint: FAILED: the tools could not be installed (npm ci in docs/)"; exit 1; }; \
	if REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true docs/node_modules/.bin/redocly lint \
	     docs/openapi.yaml --config docs/redocly.yaml; then \
	  echo "openapi-lint: passed: 0 problems (@redocly/cli $$(node -p 'require("./docs/node_modules/@redocly/cli/package.json").version'), rules in docs/redocly.yaml; known exceptions in docs/.redocly.lint-ignore.yaml)"; \
	else \
	  echo "openapi-lint: FAILED: docs/openapi.yaml has the problems above"; exit 1; \
	fi

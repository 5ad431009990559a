# `make soak`: tests/soak/soak.sh, mixed traffic through Caddy for SOAK_SECONDS (default 300) while workers are
# killed, the pool restarts gracefully and PostgreSQL restarts; it prints the totals and fails when a visit or
# a link is off, an answer was not allowed, or a worker's RSS grew by more than 1 MiB. Loopback only.
# `make soak-short` (part of `make check`) is the same run for 30 s.

SOAK_SECONDS ?= 300

.PHONY: soak soak-short
CHECK_EXTRA += soak-short

soak: deps
	@$(MAKE) --no-print-directory build/hop
	@echo "== tests/soak/soak.sh ($(SOAK_SECONDS) s)"
	@SOAK_SECONDS=$(SOAK_SECONDS) bash tests/soak/soak.sh

soak-short: build/hop
	@echo "== tests/soak/soak.sh (30 s)"
	@SOAK_SECONDS=30 bash tests/soak/soak.sh

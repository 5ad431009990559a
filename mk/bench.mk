# `make bench`: hop's throughput, latency, CPU per request and memory beside the ceilings of Caddy, a trivial
# FastCGI responder and PostgreSQL, in one run (bench/run.sh; see bench/README.md). Not part of `make check`,
# except bench-smoke, which checks the FastCGI load generator itself against a real pool in a few seconds.

BENCH_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS)

.PHONY: bench bench-tools bench-smoke bench-search

# the load generator encodes its records with the runtime's fcgirec (the same encoding as `hop status`)
build/bench/fcgi_load: bench/fcgi_load.c build/libfcgiapp.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(BENCH_CFLAGS) -Ifcgi-app -o $@ $< build/libfcgiapp.a -pthread
build/bench/trivial_fcgi: bench/trivial_fcgi.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(BENCH_CFLAGS) -o $@ $< -lfcgi

bench-tools: build/hop build/bench/fcgi_load build/bench/trivial_fcgi

bench: deps
	@$(MAKE) --no-print-directory bench-tools
	@bench/run.sh

# finding links at 100,000 links for one owner: plans and timings beside issue 11's targets (bench/search.sh)
bench-search: deps
	@$(MAKE) --no-print-directory build/hop
	@bash bench/search.sh

bench-smoke: bench-tools
	@echo "== bench/smoke.sh"
	@bash bench/smoke.sh

CHECK_EXTRA += bench-smoke

# `make bench-password-flood`: redirect rate of other links alone and under a flood of wrong passwords
# (bench/password_flood.sh, about 40 s). A measurement, not part of `make check`.
.PHONY: bench-password-flood
bench-password-flood: build/hop
	@bash bench/password_flood.sh

# `make bench-import`: a generated one-million-line CSV through `hop import`, rate and peak RSS (bench/import.sh).
.PHONY: bench-import
bench-import: build/hop
	@bash bench/import.sh

# `make bench-scale`: a million links generated with SQL, Zipf-spread redirects against one link, PostgreSQL
# CPU per redirect, pool PSS, cold start, database size, the list at depth for an owner of 100,000 links, and
# PgBouncer's pool modes (bench/scale.sh, about 5 minutes; writes build/bench/scale.md). Not part of make check.
.PHONY: bench-scale
bench-scale: deps
	@$(MAKE) --no-print-directory build/hop
	@bash bench/scale.sh

# `make bench-hours`: PostgreSQL's CPU per link-hour for a part of the master's window added to the hours, as
# the schema stands and with the variants of bench/hours/ (or BENCH_HOURS_VARIANTS) beside it, round by
# round (bench/hours.sh, about two minutes; writes build/bench/hours.md). Not part of make check:
# tests/integration/test_bench_hours.sh runs it small.
BENCH_HOURS_VARIANTS ?= $(sort $(wildcard bench/hours/*.sql))
.PHONY: bench-hours
bench-hours: build/hop
	@bash bench/hours.sh $(BENCH_HOURS_VARIANTS)

# `make bench-instructions`: the instructions one hop worker executes for a cached redirect beside the trivial
# responder's, counted by callgrind, and where hop's go (bench/instructions.sh, under a minute; writes
# build/bench/instructions.md). The same for the same binaries whatever the machine is doing. make check runs
# it small (tests/bench/test_instructions.sh, bench-instructions-check).
.PHONY: bench-instructions bench-instructions-check
bench-instructions: bench-tools
	@bash bench/instructions.sh

bench-instructions-check: bench-tools
	@echo "== tests/bench/test_instructions.sh"
	@bash tests/bench/test_instructions.sh

CHECK_EXTRA += bench-instructions-check

# `make bench-replica`: a read replica (HOP_DB_READ) and its read-your-writes, in PostgreSQL alone and end to
# end through Caddy (bench/replica.sh, about a minute; writes build/bench/replica.md). Not part of make check.
.PHONY: bench-replica
bench-replica: build/hop
	@bash bench/replica.sh

# `make bench-stats`: the stats API over a year of one link's hours and an owner of 10,000 links, generated with
# SQL (bench/analytics.sh, about five minutes, most of it the data): times, the batch write's cost and the plans
# beside issue 13's targets. A measurement, not part of `make check`.
.PHONY: bench-stats
bench-stats: build/hop
	@timeout 1200 bash bench/analytics.sh

# `make hostile`: the hostile-input battery of issue 7. tests/hostile/run.sh sends the cases of
# tests/hostile/cases.py through the real Caddy over HTTPS; tests/hostile/socket.sh sends malformed FastCGI
# straight at the pool's socket. Both run against the plain pool and again against the ASan+UBSan build (stack.sh
# fails a run on any sanitizer report in hop.log). Every run goes to the end; the target fails if any failed.

.PHONY: hostile
CHECK_EXTRA += hostile

hostile: build/hop build/hop-san
	@rc=0; for bin in build/hop build/hop-san; do \
	  for t in tests/hostile/run.sh tests/hostile/socket.sh; do \
	    echo "== $$t (HOP_BIN=$$bin)"; HOP_BIN=$$bin bash $$t || rc=1; \
	  done; \
	done; exit $$rc

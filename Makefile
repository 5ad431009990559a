# hop: build, run and test. `make run` and `make check` are the two commands a new user needs.

CC       ?= cc
VERSION  := $(shell git describe --always --dirty 2>/dev/null || echo dev)
PKGS     := json-c libpq liburiparser libsystemd libcrypto libsodium libpcre2-8 libmaxminddb libqrencode libpng
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lfcgi -lcsv
# The runtime (fcgi-app/) needs only these: it knows nothing of PostgreSQL, URLs or keys.
RT_PKGS    := json-c libsystemd
RT_PKG_CFLAGS := $(shell pkg-config --cflags $(RT_PKGS) 2>/dev/null)
RT_LIBS    := $(shell pkg-config --libs $(RT_PKGS) 2>/dev/null) -lfcgi
CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   := $(shell pkg-config --libs check 2>/dev/null)
WARN     := -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wstrict-prototypes -Wformat=2 -Wvla
CFLAGS   ?= -O2 -g
BASE_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS)
# fcgi-app/ and its unit tests see only fcgi-app/: a runtime file that includes an application header does not
# compile. The application (db/, handlers/) sees everything.
RT_CFLAGS  = $(BASE_CFLAGS) -Ifcgi-app $(RT_PKG_CFLAGS)
ALL_CFLAGS = $(BASE_CFLAGS) -Ifcgi-app -Idb -Ihandlers -Ihandlers/core -Ibuild \
             -DHOP_VERSION='"$(VERSION)"' $(PKG_CFLAGS)
SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

PREFIX   ?= /usr/local
DESTDIR  ?=

RUNTIME_SRC  := $(wildcard fcgi-app/*.c)
APP_SRC      := $(filter-out handlers/main.c,$(wildcard db/*.c handlers/*.c handlers/core/*.c))
MIGRATIONS   := $(sort $(wildcard db/migrations/*.sql))
# Unit tests of the runtime link libfcgiapp.a alone (no libpq); every other tests/unit/test_*.c is an app test.
RUNTIME_TESTS := arena clock decimal fcgirec hex jsonin log logjournal metrics netaddr promtext req resp router sockqueue xalloc
UNIT_TESTS   := $(patsubst tests/unit/test_%.c,%,$(wildcard tests/unit/test_*.c))
RUNTIME_TESTS += shmtable
# Handler tests link the handlers alone (libhandlers.a: handlers/ without main.c, no db/) against an in-memory
# database and a clock a test can move (FAKES), so the seam costs production code nothing.
HANDLER_TESTS := handlers cache visits visit_window visit_log
APP_TESTS    := $(filter-out $(RUNTIME_TESTS) $(HANDLER_TESTS),$(UNIT_TESTS))
HANDLERS_SRC := $(filter handlers/%,$(APP_SRC))
FAKES        := tests/unit/fake_db.c tests/unit/fake_clock.c

RT_OBJ      = $(patsubst %.c,build/obj/%.o,$(RUNTIME_SRC))
RT_SAN_OBJ  = $(patsubst %.c,build/san/%.o,$(RUNTIME_SRC))
APP_OBJ     = $(patsubst %.c,build/obj/%.o,$(APP_SRC)) build/obj/migrations.o build/obj/bots.o
APP_SAN_OBJ = $(patsubst %.c,build/san/%.o,$(APP_SRC)) build/san/migrations.o build/san/bots.o
RT_TEST_BIN = $(patsubst %,build/tests/test_%,$(RUNTIME_TESTS))
RT_TEST_OBJ = $(patsubst %,build/obj/tests/unit/test_%.o,$(RUNTIME_TESTS)) build/obj/tests/unit/check_main.o

.PHONY: all run check deps deps-run unit unit-san unit-valgrind integration lint lint-layers format clean install
.DELETE_ON_ERROR:

all: build/hop

# Stamps rewritten only when what they record changes, so that make sees it: the version `hop version`
# prints (main.o is rebuilt for a new commit, not only when main.c changes) and the list of migrations (a
# migration removed or renamed is embedded no more).
.PHONY: FORCE
FORCE:
build/version.stamp: FORCE
	@mkdir -p build
	@echo '$(VERSION)' | cmp -s - $@ || echo '$(VERSION)' > $@
build/migrations.list: FORCE
	@mkdir -p build
	@echo '$(MIGRATIONS)' | cmp -s - $@ || echo '$(MIGRATIONS)' > $@
build/obj/handlers/main.o build/san/handlers/main.o: build/version.stamp

build/migrations.c: db/embed.sh $(MIGRATIONS) build/migrations.list
	@mkdir -p build
	$(Q)sh db/embed.sh $(MIGRATIONS) > $@

BOT_LISTS := handlers/core/bots.txt handlers/core/bots_extra.txt
build/bots.c: scripts/embed-bots.sh $(BOT_LISTS)
	@mkdir -p build
	$(Q)sh scripts/embed-bots.sh $(BOT_LISTS) > $@

# V=1 shows the commands
Q := $(if $(V),,@)

# Which flags an object gets, by where its source lives: the runtime and the runtime's tests -Ifcgi-app only.
rt_test_src = $(patsubst %,tests/unit/test_%.c,$(RUNTIME_TESTS)) tests/unit/check_main.c
obj_cflags = $(strip $(if $(filter fcgi-app/%,$<),$(RT_CFLAGS), \
               $(if $(filter $(rt_test_src),$<),$(RT_CFLAGS) $(CHECK_CFLAGS), \
                 $(if $(filter tests/unit/%,$<),$(ALL_CFLAGS) $(CHECK_CFLAGS),$(ALL_CFLAGS)))))

build/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(obj_cflags) -MMD -MP -c $< -o $@
build/obj/migrations.o: build/migrations.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@
build/san/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC san  $<")
	$(Q)$(CC) $(obj_cflags) $(SAN_FLAGS) -MMD -MP -c $< -o $@
build/san/migrations.o: build/migrations.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -c $< -o $@
build/obj/bots.o: build/bots.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@
build/san/bots.o: build/bots.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -c $< -o $@

build/libfcgiapp.a: $(RT_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^
build/libfcgiapp-san.a: $(RT_SAN_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^
build/libhop.a: $(APP_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^
build/libhop-san.a: $(APP_SAN_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^
build/libhandlers.a: $(patsubst %.c,build/obj/%.o,$(HANDLERS_SRC)) build/obj/bots.o
	$(Q)rm -f $@ && ar rcs $@ $^
build/libhandlers-san.a: $(patsubst %.c,build/san/%.o,$(HANDLERS_SRC)) build/san/bots.o
	$(Q)rm -f $@ && ar rcs $@ $^

build/hop: build/obj/handlers/main.o build/libhop.a build/libfcgiapp.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)
build/hop-san: build/san/handlers/main.o build/libhop-san.a build/libfcgiapp-san.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(SAN_FLAGS) -o $@ $^ $(PKG_LIBS)

# Each test binary: its suite (tests/unit/test_<name>.c), the shared main (check_main.c), its libraries.
$(patsubst %,build/tests/test_%,$(RUNTIME_TESTS)): build/tests/test_%: build/obj/tests/unit/test_%.o \
  build/obj/tests/unit/check_main.o build/libfcgiapp.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(RT_LIBS) $(CHECK_LIBS)
$(patsubst %,build/tests/test_%,$(APP_TESTS)): build/tests/test_%: build/obj/tests/unit/test_%.o \
  build/obj/tests/unit/check_main.o build/libhop.a build/libfcgiapp.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS) $(CHECK_LIBS)
# The fakes come before the archives: the linker then never pulls db/ (absent) or the archive's clock.o.
$(patsubst %,build/tests/test_%,$(HANDLER_TESTS)): build/tests/test_%: build/obj/tests/unit/test_%.o \
  build/obj/tests/unit/check_main.o $(patsubst %.c,build/obj/%.o,$(FAKES)) build/libhandlers.a build/libfcgiapp.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS) $(CHECK_LIBS)
$(patsubst %,build/tests-san/test_%,$(HANDLER_TESTS)): build/tests-san/test_%: build/san/tests/unit/test_%.o \
  build/san/tests/unit/check_main.o $(patsubst %.c,build/san/%.o,$(FAKES)) build/libhandlers-san.a \
  build/libfcgiapp-san.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD san  $@")
	$(Q)$(CC) $(SAN_FLAGS) -o $@ $^ $(PKG_LIBS) $(CHECK_LIBS)
$(patsubst %,build/tests-san/test_%,$(RUNTIME_TESTS)): build/tests-san/test_%: build/san/tests/unit/test_%.o \
  build/san/tests/unit/check_main.o build/libfcgiapp-san.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD san  $@")
	$(Q)$(CC) $(SAN_FLAGS) -o $@ $^ $(RT_LIBS) $(CHECK_LIBS)
$(patsubst %,build/tests-san/test_%,$(APP_TESTS)): build/tests-san/test_%: build/san/tests/unit/test_%.o \
  build/san/tests/unit/check_main.o build/libhop-san.a build/libfcgiapp-san.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD san  $@")
	$(Q)$(CC) $(SAN_FLAGS) -o $@ $^ $(PKG_LIBS) $(CHECK_LIBS)

# The Debian packages each command needs (scripts/deps.list): `make run` only what building and running
# need; `make check` (and every target that tests or measures) what the tests need too.
deps:
	@scripts/deps.sh build run test
deps-run:
	@scripts/deps.sh build run

run: deps-run
	@$(MAKE) --no-print-directory build/hop build/web/index.html
	@scripts/run.sh

# Every test: unit tests plain, under ASan+UBSan and under valgrind; the integration suites against a real
# PostgreSQL, the real pool and a real Caddy over HTTPS; the linters.
check: deps
	@$(MAKE) --no-print-directory build/hop build/hop-san
	@$(MAKE) --no-print-directory lint unit unit-san unit-valgrind integration $(CHECK_EXTRA)

unit: $(addprefix build/tests/test_,$(UNIT_TESTS))
	@set -e; for t in $^; do echo "== $$t"; $$t; done

unit-san: $(addprefix build/tests-san/test_,$(UNIT_TESTS))
	@set -e; for t in $^; do echo "== $$t (ASan+UBSan)"; $$t; done

unit-valgrind: $(addprefix build/tests/test_,$(UNIT_TESTS))
	@set -e; for t in $^; do echo "== $$t (valgrind)"; \
	  CK_FORK=no valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=1 $$t; done

# Each suite runs once, against the ASan+UBSan build (the suite fails on any sanitizer report in the pool's
# log), so that every path the suites drive is checked for memory errors and undefined behaviour, and
# `make check` stays within 25 minutes. The plain binary, the one that ships, runs the suites of
# INTEGRATION_PLAIN instead: test_anywhere.sh builds its own (make run and a suite from a fresh checkout),
# test_migrate_domains.sh spends its time building the previous release, and the others are about processes
# and the parts around hop (supervisors, systemd, ACME, a browser, network namespaces) more than its memory;
# test_api.sh, the whole contract, runs against both. bench-smoke, install-check, soak-short and the socket
# half of hostile drive the plain binary too. Each suite's time is printed after it.
INTEGRATION_PLAIN := test_anywhere test_migrate_domains test_browser test_threehosts test_supervisors \
  test_systemd test_acme test_acme_domains
INTEGRATION_BOTH := test_api
integration: build/hop build/hop-san
	@set -e; for t in tests/integration/test_*.sh; do \
	  n=$$(basename $$t .sh); bins=build/hop-san; \
	  case " $(INTEGRATION_PLAIN) " in *" $$n "*) bins=build/hop ;; esac; \
	  case " $(INTEGRATION_BOTH) " in *" $$n "*) bins="build/hop build/hop-san" ;; esac; \
	  for b in $$bins; do \
	    case $$b in *-san) echo "== $$t (ASan+UBSan pool)" ;; *) echo "== $$t" ;; esac; \
	    s=$$(date +%s); HOP_BIN=$$b bash $$t; echo "== $$t: $$(( $$(date +%s) - s )) s"; done; done

lint: lint-layers
	@echo "== clang-format"
	@clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h' 2>/dev/null || ls */*.c */*.h)
	@echo "== cppcheck"
	@cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability --inline-suppr \
	  --suppress=missingIncludeSystem -Ifcgi-app fcgi-app
	@cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability --inline-suppr \
	  --suppress=missingIncludeSystem -Ifcgi-app -Idb -Ihandlers $(addprefix -I,$(wildcard handlers/core)) \
	  db handlers

# fcgi-app/ stays a layer: its objects and the runtime's unit tests reference no PQ* symbol, do not link libpq,
# and include no header of the repository outside fcgi-app/ (read from the compiler's own .d files).
lint-layers: build/libfcgiapp.a $(RT_TEST_BIN)
	@echo "== layers (fcgi-app/ stands alone)"
	@if nm -u $(RT_OBJ) $(RT_TEST_OBJ) $(RT_TEST_BIN) | grep -E '\bPQ[A-Za-z_]*'; then \
	  echo "layers: FAILED: the runtime or its tests reference libpq (above)"; exit 1; fi
	@for t in $(RT_TEST_BIN); do if ldd $$t | grep -F libpq; then \
	  echo "layers: FAILED: $$t links libpq"; exit 1; fi; done
	@bad=$$(sed -e 's/[:\\]/ /g' $(RT_OBJ:.o=.d) $(RT_TEST_OBJ:.o=.d) | tr ' ' '\n' | grep '\.h$$' | \
	  xargs -r realpath -m --relative-to=. | grep -vE '^/|^\.\./|^fcgi-app/[^/]*$$|^tests/unit/[^/]*$$' | sort -u); \
	  if [ -n "$$bad" ]; then echo "layers: FAILED: the runtime includes headers outside fcgi-app/:" $$bad; exit 1; fi
	@echo "layers: passed: $(words $(RT_OBJ)) runtime objects, $(words $(RT_TEST_BIN)) runtime test binaries"

format:
	clang-format -i fcgi-app/*.[ch] db/*.[ch] handlers/*.[ch] $(wildcard handlers/core/*.[ch]) tests/unit/*.[ch] \
	  tests/fuzz/*.[ch]

clean:
	rm -rf build

# Each area's own targets (fuzzing, benchmarks, supervisors...) live in mk/*.mk and add to CHECK_EXTRA.
-include $(sort $(wildcard mk/*.mk))

-include $(shell find build -name '*.d' 2>/dev/null)

# hop: build, run and test. `make run` and `make check` are the two commands a new user needs.

CC       ?= cc
VERSION  := $(shell git describe --always --dirty 2>/dev/null || echo dev)
PKGS     := json-c libpq liburiparser libsystemd libcrypto
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lfcgi
WARN     := -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wstrict-prototypes -Wformat=2 -Wvla
CFLAGS   ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -Ifcgi-app -Idb -Ihandlers -Ibuild \
             -DHOP_VERSION='"$(VERSION)"' $(PKG_CFLAGS)
SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

PREFIX   ?= /usr/local
DESTDIR  ?=

RUNTIME_SRC  := $(wildcard fcgi-app/*.c)
DB_SRC       := $(wildcard db/*.c)
HANDLERS_SRC := $(filter-out handlers/main.c,$(wildcard handlers/*.c))
MIGRATIONS   := $(sort $(wildcard db/migrations/*.sql))
LIB_SRC      := $(RUNTIME_SRC) $(DB_SRC) $(HANDLERS_SRC)
UNIT_TESTS   := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c))

OBJ     = $(patsubst %.c,build/obj/%.o,$(LIB_SRC)) build/obj/migrations.o
SAN_OBJ = $(patsubst %.c,build/san/%.o,$(LIB_SRC)) build/san/migrations.o

.PHONY: all run check deps deps-run unit unit-san unit-valgrind integration lint format clean install
.DELETE_ON_ERROR:

all: build/hop

build/migrations.c: db/embed.sh $(MIGRATIONS)
	@mkdir -p build
	$(Q)sh db/embed.sh $(MIGRATIONS) > $@

# V=1 shows the commands
Q := $(if $(V),,@)

build/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@
build/obj/migrations.o: build/migrations.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@
build/san/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC san  $<")
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -MMD -MP -c $< -o $@
build/san/migrations.o: build/migrations.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -c $< -o $@

build/libhop.a: $(OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^
build/libhop-san.a: $(SAN_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^

build/hop: build/obj/handlers/main.o build/libhop.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)
build/hop-san: build/san/handlers/main.o build/libhop-san.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(SAN_FLAGS) -o $@ $^ $(PKG_LIBS)

build/tests/%: tests/unit/%.c build/libhop.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC LD   $@")
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $^ $(PKG_LIBS) $$(pkg-config --libs check)
build/tests-san/%: tests/unit/%.c build/libhop-san.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC LD   $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -o $@ $^ $(PKG_LIBS) $$(pkg-config --libs check)

# The Debian packages each command needs (scripts/deps.list): `make run` only what building and running
# need; `make check` (and every target that tests or measures) what the tests need too.
deps:
	@scripts/deps.sh build run test
deps-run:
	@scripts/deps.sh build run

run: deps-run
	@$(MAKE) --no-print-directory build/hop
	@scripts/run.sh

# Every test: unit tests plain, under ASan+UBSan and under valgrind; the integration suites against a real
# PostgreSQL, the real pool and a real Caddy over HTTPS; the linters.
check: deps
	@$(MAKE) --no-print-directory build/hop build/hop-san
	@$(MAKE) --no-print-directory lint unit unit-san unit-valgrind integration $(CHECK_EXTRA)

unit: $(addprefix build/tests/,$(UNIT_TESTS))
	@set -e; for t in $^; do echo "== $$t"; $$t; done

unit-san: $(addprefix build/tests-san/,$(UNIT_TESTS))
	@set -e; for t in $^; do echo "== $$t (ASan+UBSan)"; $$t; done

unit-valgrind: $(addprefix build/tests/,$(UNIT_TESTS))
	@set -e; for t in $^; do echo "== $$t (valgrind)"; \
	  CK_FORK=no valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=1 $$t; done

# Each suite runs against the plain binary and again against the ASan+UBSan build (the suite fails on any
# sanitizer report in the pool's log), except those of INTEGRATION_ONCE, which build and run their own
# binary (test_anywhere.sh: make run and a suite from a fresh checkout) and run once.
INTEGRATION_ONCE := tests/integration/test_anywhere.sh
integration: build/hop build/hop-san
	@set -e; for t in tests/integration/test_*.sh; do \
	  echo "== $$t"; HOP_BIN=build/hop bash $$t; \
	  case " $(INTEGRATION_ONCE) " in *" $$t "*) continue ;; esac; \
	  echo "== $$t (ASan+UBSan pool)"; HOP_BIN=build/hop-san bash $$t; done

lint:
	@echo "== clang-format"
	@clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h' 2>/dev/null || ls */*.c */*.h)
	@echo "== cppcheck"
	@cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability --inline-suppr \
	  --suppress=missingIncludeSystem -Ifcgi-app -Idb -Ihandlers fcgi-app db handlers

format:
	clang-format -i fcgi-app/*.[ch] db/*.[ch] handlers/*.[ch] tests/unit/*.c

clean:
	rm -rf build

# Each area's own targets (fuzzing, benchmarks, supervisors...) live in mk/*.mk and add to CHECK_EXTRA.
-include $(sort $(wildcard mk/*.mk))

-include $(shell find build -name '*.d' 2>/dev/null)

# Fuzzing with libFuzzer (tests/fuzz/README.md). `make fuzz` runs every target for FUZZ_SECONDS each and keeps
# what it finds in build/fuzz/corpus; `make fuzz-merge` moves inputs that add coverage into the tree's corpus;
# `make fuzz-replay` (part of `make check`) runs every corpus file and every kept crash once.

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := $(sort $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_SAN     := -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS   = -std=c11 -D_GNU_SOURCE $(WARN) $(PKG_CFLAGS) $(FUZZ_SAN)
# The include discipline of the main build: runtime objects, and targets that test only the runtime, see only
# fcgi-app/; the others see the application's folders too.
FUZZ_INC_RT  := -Ifcgi-app -Itests/fuzz
FUZZ_INC_APP := -Ifcgi-app -Idb -Ihandlers -Ihandlers/core -Itests/fuzz
FUZZ_LIBS    := $(shell pkg-config --libs json-c liburiparser libcrypto 2>/dev/null)

# The project sources each target links. They are compiled again with clang into build/fuzz/obj, apart from
# gcc's objects, with the fuzzer's coverage instrumentation. A new target adds its line here.
FUZZ_SRC_fuzz_apikey   := handlers/apikey.c handlers/base62.c
FUZZ_SRC_fuzz_cursor   := handlers/cursor.c
FUZZ_SRC_fuzz_decode   := fcgi-app/req.c fcgi-app/arena.c fcgi-app/hex.c fcgi-app/xalloc.c fcgi-app/log.c \
                          fcgi-app/decimal.c
FUZZ_SRC_fuzz_json     := fcgi-app/jsonin.c fcgi-app/hex.c handlers/input.c handlers/validate.c handlers/base62.c \
                          handlers/handler.c fcgi-app/req.c fcgi-app/resp.c fcgi-app/arena.c fcgi-app/buf.c \
                          fcgi-app/log.c fcgi-app/xalloc.c fcgi-app/decimal.c
FUZZ_SRC_fuzz_log      := fcgi-app/log.c fcgi-app/hex.c fcgi-app/decimal.c
FUZZ_SRC_fuzz_req      := fcgi-app/req.c fcgi-app/arena.c fcgi-app/hex.c fcgi-app/xalloc.c fcgi-app/log.c \
                          fcgi-app/decimal.c
FUZZ_SRC_fuzz_router   := fcgi-app/router.c fcgi-app/req.c fcgi-app/arena.c fcgi-app/hex.c fcgi-app/xalloc.c \
                          fcgi-app/log.c fcgi-app/decimal.c
FUZZ_SRC_fuzz_validate := handlers/validate.c fcgi-app/hex.c

.PHONY: fuzz fuzz-build fuzz-replay fuzz-merge
CHECK_EXTRA += fuzz-replay

build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC fuzz $<")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(if $(filter build/fuzz/obj/fcgi-app/%,$@),$(FUZZ_INC_RT),$(FUZZ_INC_APP)) \
	  -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

define FUZZ_TARGET_RULE
build/fuzz/$(1): tests/fuzz/$(1).c $(patsubst %.c,build/fuzz/obj/%.o,$(FUZZ_SRC_$(1)))
	@mkdir -p build/fuzz
	@$$(if $$(Q),echo "  LD fuzz $$@")
	$$(Q)$$(FUZZ_CC) $$(FUZZ_CFLAGS) $(if $(filter-out fcgi-app/%,$(FUZZ_SRC_$(1))),$$(FUZZ_INC_APP),$$(FUZZ_INC_RT)) \
	  -fsanitize=fuzzer -MMD -MP -o $$@ $$< $$(filter %.o,$$^) $$(FUZZ_LIBS)
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call FUZZ_TARGET_RULE,$(t))))

fuzz-build: $(addprefix build/fuzz/,$(FUZZ_TARGETS))

fuzz: fuzz-build
	@FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_FLAGS="$(FUZZ_FLAGS)" bash tests/fuzz/run.sh fuzz $(FUZZ_TARGETS)

fuzz-merge: fuzz-build
	@bash tests/fuzz/run.sh merge $(FUZZ_TARGETS)

fuzz-replay: fuzz-build
	@echo "== fuzz-replay"
	@bash tests/fuzz/run.sh replay $(FUZZ_TARGETS)

# weft: one plain Makefile. Every user-facing target runs `deps` first, so
# on a fresh Debian machine `make demo` and `make test` are all one needs.

CC      ?= cc
PKGS    := libsodium lmdb libprotobuf-c yaml-0.1 libxxhash libuv
WARN    := -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
CPPFLAGS_ALL = -I. -Ibuild/gen -D_GNU_SOURCE
REL_CFLAGS  := -O2 -g
ASAN_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
               -fno-sanitize-recover=undefined
LIBS     = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpg_query -lpthread -lm

# Sources by layer (see docs/architecture.md). cli/main.c holds main().
LAYERS   := lib crypto storage query node agent sim cli
LIB_SRC  := $(filter-out cli/main.c,$(sort $(foreach d,$(LAYERS),$(wildcard $(d)/*.c))))
GEN_SRC  := build/gen/weft.pb-c.c
ALL_SRC  := $(GEN_SRC) $(LIB_SRC)
TEST_SRC := $(wildcard tests/test_*.c)

REL_OBJ  := $(patsubst %.c,build/rel/%.o,$(ALL_SRC))
ASAN_OBJ := $(patsubst %.c,build/asan/%.o,$(ALL_SRC))
TESTS    := $(patsubst tests/%.c,build/asan/tests/%,$(TEST_SRC))

.PHONY: all deps weft test unit cli-test demo bench check check-layers \
        check-size check-cycles check-format clean fuzz cppcheck
.DEFAULT_GOAL := all

all: deps
	@$(MAKE) --no-print-directory weft

weft: build/weft build/weft-gen build/weft-rss build/weft-netbench \
      build/weft-catfill build/weft-probe build/weft-ctlping

deps:
	@sh mk/deps.sh

build/gen/weft.pb-c.c build/gen/weft.pb-c.h: proto/weft.proto
	@mkdir -p build/gen
	protoc-c --proto_path=proto --c_out=build/gen proto/weft.proto

build/rel/%.o: %.c build/gen/weft.pb-c.h
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(REL_CFLAGS) $(CPPFLAGS_ALL) -MMD -MP -c $< -o $@

build/asan/%.o: %.c build/gen/weft.pb-c.h
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(ASAN_CFLAGS) $(CPPFLAGS_ALL) -MMD -MP -c $< -o $@

build/weft: $(REL_OBJ) build/rel/cli/main.o
	$(CC) $(REL_CFLAGS) -o $@ $^ $(LIBS)

build/asan/weft: $(ASAN_OBJ) build/asan/cli/main.o
	$(CC) $(ASAN_CFLAGS) -o $@ $^ $(LIBS)

build/weft-gen: bench/gen.c
	@mkdir -p build
	$(CC) $(WARN) -O2 -o $@ $< -lm

build/weft-rss: bench/rss.c
	@mkdir -p build
	$(CC) $(WARN) -O2 -o $@ $<

# Session benchmark client (bench/netbench.c) and the hostile-peer probe
# the agent tests use (tests/probe.c, under ASan like everything tested).
build/weft-netbench: bench/netbench.c $(REL_OBJ)
	$(CC) $(WARN) $(REL_CFLAGS) $(CPPFLAGS_ALL) -o $@ $< $(REL_OBJ) $(LIBS)

# The catalog benchmark's load (bench/catalog.sh).
build/weft-catfill: bench/catfill.c $(REL_OBJ)
	$(CC) $(WARN) $(REL_CFLAGS) $(CPPFLAGS_ALL) -o $@ $< $(REL_OBJ) $(LIBS)

# The insider benchmark's status client (bench/insider.sh).
build/weft-ctlping: bench/ctlping.c $(REL_OBJ)
	$(CC) $(WARN) $(REL_CFLAGS) $(CPPFLAGS_ALL) -o $@ $< $(REL_OBJ) $(LIBS)

PROBE_SRC = tests/probe.c tests/probe_query.c tests/probe_gossip.c
# released for bench/insider.sh, whose flood must not be slowed by ASan
build/weft-probe: $(PROBE_SRC) tests/probe.h $(REL_OBJ)
	$(CC) $(WARN) $(REL_CFLAGS) $(CPPFLAGS_ALL) -o $@ $(PROBE_SRC) $(REL_OBJ) $(LIBS)
build/asan/weft-probe: $(PROBE_SRC) tests/probe.h $(ASAN_OBJ)
	$(CC) $(WARN) $(ASAN_CFLAGS) $(CPPFLAGS_ALL) -o $@ $(PROBE_SRC) $(ASAN_OBJ) $(LIBS)

# test_gossip's harness is a file of its own (tests/gossip_net.c)
build/asan/tests/test_gossip: tests/test_gossip.c tests/gossip_net.c \
    tests/gossip_net.h $(ASAN_OBJ)
	$(CC) $(WARN) $(ASAN_CFLAGS) $(CPPFLAGS_ALL) -o $@ tests/test_gossip.c \
	    tests/gossip_net.c $(ASAN_OBJ) $(LIBS) -lcmocka

build/asan/tests/%: tests/%.c $(ASAN_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(ASAN_CFLAGS) $(CPPFLAGS_ALL) -o $@ $< $(ASAN_OBJ) \
	    $(LIBS) -lcmocka

# Unit tests (cmocka) then CLI tests with real processes, all under
# ASan/UBSan. The 3M-row ingest test measures RSS with the release build,
# since sanitizer shadow memory would swamp the figure.
test: deps
	@$(MAKE) --no-print-directory build/asan/weft build/weft build/weft-gen \
	    build/weft-rss build/asan/weft-probe $(TESTS)
	@$(MAKE) --no-print-directory check unit cli-test

unit: $(TESTS)
	@set -e; for t in $(TESTS); do echo "== $$t"; $$t; done

cli-test: build/asan/weft build/weft build/weft-gen build/weft-rss \
    build/asan/weft-probe build/weft-catfill
	@WEFT=$(CURDIR)/build/asan/weft WEFT_REL=$(CURDIR)/build/weft \
	    WEFT_PROBE=$(CURDIR)/build/asan/weft-probe \
	    WEFT_CATFILL=$(CURDIR)/build/weft-catfill \
	    WEFT_GEN=$(CURDIR)/build/weft-gen WEFT_RSS=$(CURDIR)/build/weft-rss \
	    sh tests/cli/run.sh

demo: deps
	@$(MAKE) --no-print-directory weft
	@WEFT=$(CURDIR)/build/weft WEFT_GEN=$(CURDIR)/build/weft-gen \
	    sh mk/demo.sh

bench: deps
	@$(MAKE) --no-print-directory weft
	@WEFT=$(CURDIR)/build/weft WEFT_GEN=$(CURDIR)/build/weft-gen \
	    sh bench/run.sh

# libFuzzer harnesses (tests/fuzz/fuzz_*.c), each run FUZZ_SECONDS under
# ASan/UBSan, starting from its seeds (tests/fuzz/seeds/NAME) and the
# corpus left by earlier runs (build/fuzz/NAME.corpus). Crashes, and
# undefined behaviour (which UBSan would otherwise only print), are left
# in build/fuzz/ and fail the target. A campaign longer than CI's minute
# on some harnesses: make fuzz FUZZ="fuzz_sql fuzz_frag" FUZZ_SECONDS=1200
FUZZ_SECONDS ?= 60
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_ALL := $(patsubst tests/fuzz/%.c,%,$(FUZZ_SRC))
FUZZ ?= $(FUZZ_ALL)
FUZZ_BIN := $(patsubst %,build/fuzz/%,$(FUZZ))

FUZZ_OBJ := $(patsubst %.c,build/fuzz/obj/%.o,$(ALL_SRC))
.SECONDARY: $(FUZZ_OBJ) # kept between runs, not deleted as intermediates
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer-no-link,address,undefined

# The library is compiled once for all harnesses (instrumented for
# coverage), then each harness is linked with libFuzzer's main.
build/fuzz/obj/%.o: %.c build/gen/weft.pb-c.h
	@mkdir -p $(dir $@)
	clang $(WARN) $(FUZZ_CFLAGS) $(CPPFLAGS_ALL) -MMD -MP -c $< -o $@

build/fuzz/%: tests/fuzz/%.c $(FUZZ_OBJ)
	@mkdir -p build/fuzz
	clang $(WARN) -g -O1 -fsanitize=fuzzer,address,undefined $(CPPFLAGS_ALL) \
	    -o $@ $< $(FUZZ_OBJ) $(LIBS)

fuzz: deps
	@$(MAKE) --no-print-directory $(FUZZ_BIN)
	@set -e; for f in $(FUZZ_BIN); do \
	    n=$$(basename $$f); echo "== $$n ($(FUZZ_SECONDS) s)"; \
	    mkdir -p $$f.corpus; \
	    seeds=""; [ -d tests/fuzz/seeds/$$n ] && seeds=$(CURDIR)/tests/fuzz/seeds/$$n; \
	    dict=""; [ $$n = fuzz_sql ] && dict=-dict=$(CURDIR)/tests/fuzz/sql.dict; \
	    if ! (cd build/fuzz && UBSAN_OPTIONS=halt_on_error=1 \
	        ./$$n -max_total_time=$(FUZZ_SECONDS) $$dict \
	        -print_final_stats=0 $$n.corpus $$seeds >$$n.log 2>&1); then \
	        tail -40 $$f.log; echo "fuzz: $$n FAILED (see $$f.log)"; exit 1; \
	    fi; tail -1 $$f.log; \
	done

# The house's rules (docs/architecture.md), all part of make test:
# layering (mk/layers), the size ratchet (mk/size-exceptions), no call
# cycles between files, cppcheck, and the code as .clang-format has it.
check: check-layers check-size check-cycles cppcheck check-format

check-layers:
	@sh mk/check-layers.sh

check-size:
	@sh mk/check-size.sh

check-cycles: build/weft
	@sh mk/check-cycles.sh build/rel

check-format:
	@sh mk/check-format.sh

cppcheck:
	@cppcheck --quiet --error-exitcode=1 --std=c11 --inline-suppr \
	    --suppress=missingIncludeSystem -I. -Ilib $(LAYERS) && \
	    echo "cppcheck: ok"

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)

# perfagent: BPF objects + skeletons, the agent, tests, and (via Kbuild) the
# kernel module. Every part is picked up by wildcard: a new bpf/x.bpf.c gets
# its skeleton build/skel/x.skel.h, a new agent/x.c joins the agent, a new
# tests/unit/test_x.c becomes build/tests/test_x.
#
#   make                 agent + BPF objects             (build/)
#   make SAN=1           the same with ASan + UBSan      (build/san/)
#   make tests           unit and integration test binaries
#   make check           everything tests/run.sh runs (see README.md)
#   make module KDIR=... the kernel module against a kernel build tree

VERSION		:= 0.1.0
SAN		?= 0
ifeq ($(SAN),1)
BUILD		?= build/san
SANFLAGS	:= -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
else
BUILD		?= build
SANFLAGS	:=
endif

CC		?= cc
CLANG		?= clang
BPFTOOL		?= bpftool
PKG_CONFIG	?= pkg-config
KDIR		?= /lib/modules/$(shell uname -r)/build

DEPS_PC		:= libbpf libnl-genl-3.0 libcjson zlib
PC_CFLAGS	:= $(shell $(PKG_CONFIG) --cflags $(DEPS_PC) 2>/dev/null)
PC_LIBS		:= $(shell $(PKG_CONFIG) --libs $(DEPS_PC) 2>/dev/null)

WARN		:= -Wall -Wextra -Werror
CFLAGS		?= -O2 -g
override CFLAGS	+= $(WARN) $(SANFLAGS) -std=gnu11 -D_GNU_SOURCE \
		   -DPERFAGENT_VERSION='"$(VERSION)"' \
		   -Iinclude -Iagent -I$(BUILD)/skel -I$(BUILD)/gen $(PC_CFLAGS)
LDFLAGS		+= $(SANFLAGS)
LDLIBS		+= $(PC_LIBS) -lelf -lm -lpthread

ARCH		:= x86
BPF_CFLAGS	:= -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) $(WARN) \
		   -Wno-unused-parameter -Wno-missing-field-initializers \
		   -Iinclude -Ibpf

BPF_SRCS	:= $(wildcard bpf/*.bpf.c)
BPF_OBJS	:= $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))
SKELS		:= $(patsubst bpf/%.bpf.c,$(BUILD)/skel/%.skel.h,$(BPF_SRCS))

GEN		:= $(BUILD)/gen/syscall_table.h
AGENT_SRCS	:= $(wildcard agent/*.c)
AGENT_OBJS	:= $(patsubst agent/%.c,$(BUILD)/agent/%.o,$(AGENT_SRCS))
LIB_OBJS	:= $(filter-out $(BUILD)/agent/main.o,$(AGENT_OBJS))
LIB		:= $(BUILD)/libperfagent.a

TEST_SRCS	:= $(wildcard tests/unit/test_*.c tests/integration/test_*.c)
TEST_BINS	:= $(patsubst %.c,$(BUILD)/tests/%,$(notdir $(TEST_SRCS)))
TEST_LIB_HDRS	:= $(wildcard tests/lib/*.h)
TEST_HELPERS	:= $(patsubst tests/helpers/%.c,$(BUILD)/tests/%,$(wildcard tests/helpers/*.c))

.PHONY: all tests check bench module module-clean clean
.DELETE_ON_ERROR:

all: $(BUILD)/perfagent $(BPF_OBJS)

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(wildcard include/perfagent/*.h bpf/*.h) | $(BUILD)/bpf
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/skel/%.skel.h: $(BUILD)/bpf/%.bpf.o | $(BUILD)/skel
	$(BPFTOOL) gen skeleton $< name $*_bpf > $@

$(GEN): tools/gen-syscall-table.sh | $(BUILD)/gen
	sh $< > $@

$(BUILD)/agent/%.o: agent/%.c $(SKELS) $(GEN) $(wildcard agent/*.h include/perfagent/*.h) | $(BUILD)/agent
	$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	$(AR) rcs $@ $^

$(BUILD)/perfagent: $(BUILD)/agent/main.o $(LIB)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/%: tests/unit/%.c $(LIB) $(TEST_LIB_HDRS) | $(BUILD)/tests
	$(CC) $(CFLAGS) -Itests/lib $< $(LIB) $(LDFLAGS) $(LDLIBS) -o $@

$(BUILD)/tests/%: tests/integration/%.c $(LIB) $(TEST_LIB_HDRS) | $(BUILD)/tests
	$(CC) $(CFLAGS) -Itests/lib $< $(LIB) $(LDFLAGS) $(LDLIBS) -o $@

# Small workload programs the tests drive; static so they also run in the VM.
$(BUILD)/tests/%: tests/helpers/%.c | $(BUILD)/tests
	$(CC) -O2 -Wall -Wextra -Werror -static $< -o $@

tests: all $(TEST_BINS) $(TEST_HELPERS)

check:
	sh tests/run.sh

# Benchmarks (tools/bench/): overhead figures recorded in docs/benchmarks.md.
BENCH_BPF	:= $(patsubst tools/bench/%.bpf.c,$(BUILD)/bench/%.bpf.o,$(wildcard tools/bench/*.bpf.c))
BENCH_BINS	:= $(patsubst tools/bench/%.c,$(BUILD)/bench/%,$(filter-out %.bpf.c,$(wildcard tools/bench/*.c)))

bench: $(BENCH_BPF) $(BENCH_BINS)

$(BUILD)/bench/%.bpf.o: tools/bench/%.bpf.c | $(BUILD)/bench
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bench/%: tools/bench/%.c $(LIB) | $(BUILD)/bench
	$(CC) $(CFLAGS) $< $(LIB) $(LDFLAGS) $(LDLIBS) -o $@

$(BUILD)/bpf $(BUILD)/skel $(BUILD)/gen $(BUILD)/agent $(BUILD)/tests $(BUILD)/bench:
	mkdir -p $@

# The kernel module, outside DKMS (DKMS uses Kbuild directly).
module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

module-clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean

clean:
	rm -rf build

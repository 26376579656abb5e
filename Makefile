# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# make            build build/bridgeless (BPF objects embedded as skeletons)
# make test       install missing Debian packages, build, run every test
# make demo       install missing Debian packages, build, run the sandboxed demo
# make bench      pod-to-pod benchmark against bare veth and bridge mode

BUILD    ?= build
CC       ?= gcc
CLANG    ?= clang
BPFTOOL  ?= bpftool
ARCH     := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)

CFLAGS   ?= -O2 -g
CFLAGS   += -Wall -Wextra -Wno-unused-parameter -std=gnu11 -Iinclude -I$(BUILD) -Iuser
LDLIBS   += -lbpf -lmnl -ljansson -lelf -lz
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Iinclude -Ibpf \
	-I/usr/include/$(MULTIARCH) -Wall -Werror

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))
BPF_HDRS := $(wildcard bpf/lib/*.h) include/bridgeless.h
SKEL     := $(BUILD)/datapath.skel.h

USER_SRCS := $(filter-out user/main.c,$(wildcard user/*.c))
USER_OBJS := $(patsubst user/%.c,$(BUILD)/user/%.o,$(USER_SRCS))
USER_HDRS := $(wildcard user/*.h) include/bridgeless.h $(SKEL)

.PHONY: all deps test demo bench clean
all: $(BUILD)/bridgeless $(BUILD)/test_datapath

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS)
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# One object for all attach points, so the maps are shared and one skeleton
# loads everything.
$(BUILD)/bpf/datapath.o: $(BPF_OBJS)
	$(BPFTOOL) gen object $@ $^

$(SKEL): $(BUILD)/bpf/datapath.o
	$(BPFTOOL) gen skeleton $< name datapath > $@

$(BUILD)/user/%.o: user/%.c $(USER_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/bridgeless: user/main.c $(USER_OBJS) $(USER_HDRS)
	$(CC) $(CFLAGS) user/main.c $(USER_OBJS) -o $@ $(LDLIBS)

$(BUILD)/test_datapath: tests/unit/test_datapath.c $(USER_OBJS) $(USER_HDRS)
	$(CC) $(CFLAGS) tests/unit/test_datapath.c $(USER_OBJS) -o $@ $(LDLIBS)

deps:
	tools/install-deps

test: deps
	$(MAKE) all
	tests/run

demo: deps
	$(MAKE) all
	tools/demo

bench: deps
	$(MAKE) all
	tools/bench

clean:
	rm -rf $(BUILD)

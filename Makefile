# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# make            build build/bridgeless (BPF objects embedded as skeletons)
# make test       install missing Debian packages, build, run every test
# make demo       install missing Debian packages, build, run the sandboxed demo
# make bench      benchmark against bare veth and the CNI bridge plugin; writes docs/BENCHMARKS.md
# make install    install build/bridgeless and the CNI plugin (see docs/CNI.md)
# make SANITIZE=1 the same with ASan + UBSan, into build/san (docs/ROBUSTNESS.md)
# make fuzz       build the libFuzzer targets of tests/fuzz and run each FUZZ_TIME seconds

# SANITIZE=1: every user-space binary built with AddressSanitizer and
# UndefinedBehaviorSanitizer (any report aborts), in a build dir of its own.
ifeq ($(SANITIZE),1)
BUILD    ?= build/san
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
endif
BUILD    ?= build
CC       ?= gcc
CLANG    ?= clang
BPFTOOL  ?= bpftool
ARCH     := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)

CFLAGS   ?= -O2 -g
CFLAGS   += -Wall -Wextra -Wno-unused-parameter -std=gnu11 -Iinclude -I$(BUILD) -Iuser
CFLAGS   += $(SAN_FLAGS)
LDFLAGS  += $(SAN_FLAGS)
# --as-needed: the CNI plugin links none of libmicrohttpd (metrics) from the
# archive, so it does not depend on it at run time either.
LDFLAGS  += -Wl,--as-needed
LDLIBS   += -lbpf -lmnl -ljansson -lmicrohttpd -lcurl -lyaml -lpthread -lelf -lz
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Iinclude -Ibpf \
	-I/usr/include/$(MULTIARCH) -Wall -Werror

# A recipe that fails leaves no half-written target behind (a truncated
# skeleton would otherwise look up to date).
.DELETE_ON_ERROR:

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))
BPF_HDRS := $(wildcard bpf/lib/*.h) include/bridgeless.h
SKEL     := $(BUILD)/datapath.skel.h

# user/ by layer, one folder each (docs/LAYOUT.md); includes name the
# folder ("node/pod.h"), so a file's dependencies show its layer.
# Every object but the two mains goes into one (thin) archive, in which
# files of the same name in two folders stay apart; each binary takes the
# objects it uses. A layer may have folders of its own (agent/k8s/).
MAINS     := user/cli/main.c user/cli/cni_main.c
USER_SRCS := $(filter-out $(MAINS),$(wildcard user/*/*.c user/*/*/*.c))
USER_OBJS := $(patsubst user/%.c,$(BUILD)/user/%.o,$(USER_SRCS))
USER_LIB  := $(BUILD)/libbridgeless.a
USER_HDRS := $(wildcard user/*/*.h user/*/*/*.h) include/bridgeless.h $(SKEL)

# Quiet by default, as libbpf-bootstrap does; V=1 shows every command.
ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
MAKEFLAGS += --no-print-directory
endif

.PHONY: all deps test demo bench clean install fuzz fuzz-build
all: $(BUILD)/bridgeless $(BUILD)/bridgeless-cni $(BUILD)/test_datapath $(BUILD)/bpfcost

# BPF code must not include a libc header, not even through a UAPI header
# (<linux/if.h> pulls <sys/socket.h>, which under -target bpf wants the
# 32-bit glibc stubs): every header an object read must be ours, libbpf's or
# a kernel UAPI one. tools/bpf-headers-check reads the compiler's list.
$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS)
	$(call msg,BPF,$@)
	@mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MD -MF $(@:.o=.d) -c $< -o $@
	$(Q)tools/bpf-headers-check $(MULTIARCH) $(@:.o=.d)

# One object for all attach points, so the maps are shared and one skeleton
# loads everything.
$(BUILD)/bpf/datapath.o: $(BPF_OBJS)
	$(call msg,GEN-OBJ,$@)
	$(Q)$(BPFTOOL) gen object $@ $^

$(SKEL): $(BUILD)/bpf/datapath.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name datapath > $@

$(BUILD)/user/%.o: user/%.c $(USER_HDRS)
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(USER_LIB): $(USER_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@
	$(Q)$(AR) rcsT $@ $^

$(BUILD)/bridgeless: user/cli/main.c $(USER_LIB) $(USER_HDRS)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) user/cli/main.c $(USER_LIB) -o $@ $(LDLIBS)

# The CNI plugin runs on hosts it is copied onto (`cni install`) and is
# started for every ADD and DEL: libbpf, libjansson, libelf and zlib linked
# in (fewer libraries for the host to have and for ld.so to load each time),
# only libmnl (no archive in Debian) and libc shared.
CNI_LDLIBS := -Wl,-Bstatic -lbpf -ljansson -lelf -lz -Wl,-Bdynamic -lmnl

$(BUILD)/bridgeless-cni: user/cli/cni_main.c $(USER_LIB) $(USER_HDRS)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) user/cli/cni_main.c $(USER_LIB) -o $@ $(CNI_LDLIBS)

# The unit tests' framework (tests/unit/lib) and one fixture file per feature
# (tests/unit/fixtures): found by wildcard, so a new fixture file needs no
# edit here. Linked as objects, not an archive: a fixture file's table is
# reached through its ELF section only (tcase.h), never by a symbol.
UNIT_SRCS := $(sort $(wildcard tests/unit/lib/*.c tests/unit/fixtures/*.c))
UNIT_OBJS := $(patsubst tests/unit/%.c,$(BUILD)/unit/%.o,$(UNIT_SRCS))
UNIT_HDRS := $(wildcard tests/unit/lib/*.h tests/unit/fixtures/*.h) include/bridgeless.h $(SKEL)

$(BUILD)/unit/%.o: tests/unit/%.c $(UNIT_HDRS)
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Itests/unit -c $< -o $@

$(BUILD)/test_datapath: tests/unit/test_datapath.c $(UNIT_OBJS) $(UNIT_HDRS)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) $< $(UNIT_OBJS) -o $@ -lbpf

# BPF_PROG_TEST_RUN timer for tools/bpf-cost: the unit tests' fixtures, timed
$(BUILD)/bpfcost: tools/bpfcost.c $(UNIT_OBJS) $(UNIT_HDRS)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) $< $(UNIT_OBJS) -o $@ -lbpf

# libFuzzer targets (tests/fuzz/fuzz_*.c): clang builds every user-space
# source again with the fuzzer's coverage, ASan and UBSan, into one archive
# each target takes what it uses from. Not part of `all` (it doubles the
# build); `make test` builds them and tests/run runs each briefly.
FUZZ_CC      ?= clang
FUZZ_BUILD   := $(BUILD)/fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS  := -g -O1 -Wall -Wno-unused-parameter -std=gnu11 -Iinclude -I$(BUILD) \
		-Iuser -fno-omit-frame-pointer $(FUZZ_SAN)
FUZZ_SRCS    := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS    := $(patsubst tests/fuzz/%.c,$(FUZZ_BUILD)/%,$(FUZZ_SRCS))
FUZZ_OBJS    := $(patsubst user/%.c,$(FUZZ_BUILD)/user/%.o,$(USER_SRCS))
FUZZ_TIME    ?= 60

$(FUZZ_BUILD)/user/%.o: user/%.c $(USER_HDRS)
	$(call msg,FUZZ-CC,$@)
	@mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_BUILD)/libbridgeless.a: $(FUZZ_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@
	$(Q)$(AR) rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_BUILD)/libbridgeless.a $(USER_HDRS)
	$(call msg,FUZZ,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(FUZZ_BUILD)/libbridgeless.a \
		-o $@ $(LDLIBS)

fuzz-build: $(FUZZ_BINS)

# make fuzz [FUZZ_TIME=60] [FUZZ_TARGETS="fuzz_cni ..."]: each target for
# FUZZ_TIME seconds from the committed corpus, which it only reads (new
# inputs go to a temporary dir); crashes to $(FUZZ_BUILD)/artifacts.
fuzz: fuzz-build
	BUILD=$(BUILD) tests/fuzz/fuzz.sh --time $(FUZZ_TIME) $(FUZZ_TARGETS)

deps:
	tools/install-deps

test: deps
	$(MAKE) all fuzz-build
	tests/run

demo: deps
	$(MAKE) all
	tools/demo

bench: deps
	$(MAKE) all
	tools/bench

# make install [DESTDIR=] [PREFIX=/usr/local] [CNI_BIN_DIR=/opt/cni/bin]
#   [CNI_CONF_DIR=/etc/cni/net.d] [POD_CIDR=CIDR]
# The conflist needs the node's pod CIDR: written when the node is
# initialized or POD_CIDR is given, else `bridgeless cni install` does it later.
PREFIX       ?= /usr/local
CNI_BIN_DIR  ?= /opt/cni/bin
CNI_CONF_DIR ?= /etc/cni/net.d
install: $(BUILD)/bridgeless $(BUILD)/bridgeless-cni
	install -D -m 0755 $(BUILD)/bridgeless $(DESTDIR)$(PREFIX)/sbin/bridgeless
	install -D -m 0755 $(BUILD)/bridgeless-cni $(DESTDIR)$(PREFIX)/sbin/bridgeless-cni
	install -d $(DESTDIR)$(PREFIX)/share/doc/bridgeless
	install -m 0644 README.md docs/*.md $(DESTDIR)$(PREFIX)/share/doc/bridgeless/
	@if [ -n "$(POD_CIDR)" ] || $(BUILD)/bridgeless node status --json 2>/dev/null | \
		grep -q '"initialized": true'; then \
		$(DESTDIR)$(PREFIX)/sbin/bridgeless cni install \
			--bin-dir $(DESTDIR)$(CNI_BIN_DIR) --conf-dir $(DESTDIR)$(CNI_CONF_DIR) \
			$(if $(POD_CIDR),--pod-cidr $(POD_CIDR)); \
	else \
		install -D -m 0755 $(BUILD)/bridgeless-cni $(DESTDIR)$(CNI_BIN_DIR)/bridgeless; \
		echo "installed $(DESTDIR)$(CNI_BIN_DIR)/bridgeless; no conflist: node not initialized" \
		     "(run \`bridgeless node init\` then \`bridgeless cni install\`, or make install POD_CIDR=...)"; \
	fi

clean:
	rm -rf $(BUILD)

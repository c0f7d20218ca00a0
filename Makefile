# Antfarm top-level Makefile.
#
# Every component keeps its own rules in <dir>/module.mk; this file holds
# only what they share: tool names, flags, the quiet-output helpers, the
# BPF -> skeleton pipeline and the test runner.  Generated files (BPF
# objects, skeletons, binaries) go to $(BUILD), never to git.
#
#   make            build everything
#   make test       install missing packages, build, run the test suite
#   make demo       agent + test guest on antfarm-blk, live process events
#   make install    PREFIX=/usr/local DESTDIR=
#   make check-fresh  the README's commands in a fresh Debian 12 root (downloads)
#   make vmlinux    regenerate vmlinux.h from the running kernel's BTF
#   V=1             show the commands
#   WERROR=1        warnings are errors (what make test and CI build with)

BUILD    ?= build
PREFIX   ?= /usr/local
DESTDIR  ?=
CC       ?= cc
CLANG    ?= clang
BPFTOOL  ?= bpftool

ARCH     := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

# Warnings of every compiler run (C, BPF, the fuzzers, the sanitizer build).
WARN     := -Wall -Wextra -Wno-unused-parameter $(if $(filter 1,$(WERROR)),-Werror)

CFLAGS   ?= -O2 -g
CFLAGS   += $(WARN) -std=gnu11 -D_GNU_SOURCE \
            -I. -Iinclude -I$(BUILD) -MMD -MP
LDLIBS_BPF := -lbpf -lelf -lz

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -I. -Iinclude -Ibpf \
              -Wall -Wno-unused-function $(if $(filter 1,$(WERROR)),-Werror) -MMD -MP

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# Filled in by the module.mk fragments.
BINS       :=
TEST_PROGS :=
DEPS_FILES :=

.PHONY: all test demo install clean deps check-fresh vmlinux accuracy bench-blk bench-sched FORCE
all: build-all

# A recipe that fails leaves no half-written target behind.
.DELETE_ON_ERROR:

$(BUILD) $(BUILD)/bpf $(BUILD)/tests:
	$(Q)mkdir -p $@

# Every compiled file depends on the flags it was compiled with: a build
# with other flags (WERROR=1 for make test, CFLAGS=...) recompiles.
FLAGS_FILE := $(BUILD)/flags
FLAGS_NOW  := $(CC) $(CFLAGS) | $(CLANG) $(BPF_CFLAGS)
$(FLAGS_FILE): FORCE | $(BUILD)
	$(Q)printf '%s\n' '$(FLAGS_NOW)' | cmp -s - $@ || printf '%s\n' '$(FLAGS_NOW)' > $@

# BPF object and skeleton from bpf/<name>.bpf.c
$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c vmlinux.h $(FLAGS_FILE) | $(BUILD)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MF $(@:.o=.d) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@.tmp && mv $@.tmp $@

$(BUILD)/%.o: %.c $(FLAGS_FILE) | $(BUILD)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

# The module files, in this order: each may use the variables of those
# before it (lib/ first, then what the programs are made of, then their
# tests and benchmarks).
MODULES := lib bpf agent cli blk dist \
	   tests/lib tests/runner tests/vhu tests/agent tests/blk tests/guest tests/infer tests/sched tests/accuracy \
	   tests/kvm tests/replay tests/cli tests/dist tests/http \
	   bench/agent bench/blk bench/fuzz bench/bpf bench/hostile bench/overhead bench/sched
include $(MODULES:%=%/module.mk)

build-all: $(BINS) $(TEST_PROGS)

# The dependency step: installs the Debian 12 packages the build and the
# tests need, once.  Cheap when everything is present.
deps:
	$(Q)sh mk/deps.sh

# CI runs this: a warning fails the build.
test: deps
	$(Q)$(MAKE) --no-print-directory WERROR=1 build-all
	$(Q)sh tests/run-tests.sh $(TEST_PROGS)

demo: deps
	$(Q)$(MAKE) --no-print-directory build-all
	$(Q)sh mk/demo.sh

# Not part of make test: it downloads a Debian system (mk/check-fresh.sh)
check-fresh:
	$(Q)sh mk/deps.sh check-fresh
	$(Q)sh mk/check-fresh.sh

vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux.h

install: build-all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin
	for b in $(BINS); do case $$b in \
	  *antfarm-agent|*antfarm-blk) install -m 0755 $$b $(DESTDIR)$(PREFIX)/sbin/ ;; \
	  *) install -m 0755 $$b $(DESTDIR)$(PREFIX)/bin/ ;; esac; done

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

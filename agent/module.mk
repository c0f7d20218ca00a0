# antfarm-agent: the daemon core (this directory) linked with the collector
# (agent/collector.c, objects listed in $(COLLECTOR_OBJS) by bpf/module.mk).
# agent/json.c and agent/proto.c are also used by the CLI and the tests.

AGENT_LIB_OBJS := $(addprefix $(BUILD)/agent/,json.o proto.o outq.o)
AGENT_OBJS     := $(addprefix $(BUILD)/agent/,main.o server.o commands.o hints.o log.o \
                    record.o replay.o obs.o) \
                  $(AGENT_LIB_OBJS)

# The collector is written separately; until it exists, build the rest.
ifneq ($(wildcard agent/collector.c),)
BINS += $(BUILD)/antfarm-agent

# COLLECTOR_OBJS is defined by bpf/module.mk, included after this file.
.SECONDEXPANSION:
$(BUILD)/antfarm-agent: $(AGENT_OBJS) $$(COLLECTOR_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_BPF)
else
build-all: $(AGENT_OBJS)
endif

# the version a recording names (record.c)
ANTFARM_VERSION := $(shell git describe --always --dirty 2>/dev/null || echo unknown)
$(BUILD)/agent/record.o: CFLAGS += -DANTFARM_VERSION='"$(ANTFARM_VERSION)"'

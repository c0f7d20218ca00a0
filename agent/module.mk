# antfarm-agent: the daemon core (this directory) linked with the collector
# (COLLECTOR_OBJS, bpf/module.mk) and lib/.  agent/proto.c and
# agent/outq.c are also linked into the protocol tests.

AGENT_LIB_OBJS := $(addprefix $(BUILD)/agent/,proto.o outq.o) $(LIB_OBJS)
AGENT_OBJS     := $(addprefix $(BUILD)/agent/,main.o loop.o server.o commands.o hints.o \
                    record.o replay.o obs.o roots.o vmname.o) \
                  $(AGENT_LIB_OBJS)

BINS += $(BUILD)/antfarm-agent

$(BUILD)/antfarm-agent: $(AGENT_OBJS) $(COLLECTOR_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_BPF)

# the version a recording names (record.c)
ANTFARM_VERSION := $(shell git describe --always --dirty 2>/dev/null || echo unknown)
$(BUILD)/agent/record.o: CFLAGS += -DANTFARM_VERSION='"$(ANTFARM_VERSION)"'

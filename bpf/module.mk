# BPF programs (bpf/) and their userspace loader, the collector (agent/collector.c).
# The agent links $(BUILD)/antfarm-agent from its objects + $(COLLECTOR_OBJS) + $(LDLIBS_BPF);
# the collector logs through lib/, so whatever links it links $(LIB_OBJS) too.

# fetch-and-add with a result (af_event.seq) needs BPF ISA v3
$(BUILD)/bpf/antfarm.bpf.o: BPF_CFLAGS += -mcpu=v3

COLLECTOR_SRCS := agent/collector.c agent/collector_maps.c agent/collector_metrics.c \
                  agent/collector_host.c
COLLECTOR_OBJS := $(COLLECTOR_SRCS:%.c=$(BUILD)/%.o)

$(COLLECTOR_OBJS): $(BUILD)/antfarm.skel.h
# the root digest is one definition for BPF and the collector (bpf/digest.h)
$(COLLECTOR_OBJS): CFLAGS += -Ibpf

# Inference state machine: userspace replay unit tests (bpf/infer.h through
# tests/infer/shim.h) and the live-kernel test of the real BPF object.

INFER_UNIT_OBJS := $(BUILD)/tests/infer/test_infer.o $(BUILD)/tests/infer/shim.o

$(INFER_UNIT_OBJS): CFLAGS += -Ibpf -Itests/infer

$(BUILD)/tests/infer/test_infer: $(INFER_UNIT_OBJS) $(CHECK_OBJS)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@

TEST_PROGS += $(BUILD)/tests/infer/test_infer

$(BUILD)/tests/infer/test_live.o: CFLAGS += -Iagent

$(BUILD)/tests/infer/test_live: $(BUILD)/tests/infer/test_live.o $(COLLECTOR_OBJS) $(LIB_OBJS) \
		$(CHECK_OBJS)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS_BPF) -o $@

TEST_PROGS += $(BUILD)/tests/infer/test_live

# Agent tests: protocol unit tests, and the live agent driven through the
# replay program (af-inject) over its socket.

TEST_AGENT_PROTO := $(BUILD)/tests/agent/test_proto
AF_INJECT        := $(BUILD)/tests/agent/af-inject
TEST_PROGS += $(TEST_AGENT_PROTO)

$(TEST_AGENT_PROTO): $(BUILD)/tests/agent/test_proto.o $(AGENT_LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

$(AF_INJECT): $(BUILD)/tests/agent/af-inject.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_BPF)

# Agent tests: protocol unit tests (C), and the live agent driven through
# its replay program by af-inject over a temporary socket (Python drivers:
# live_test.py, and valgrind_test.py for leaks and memory errors).

TEST_AGENT_PROTO := $(BUILD)/tests/agent/test_proto
AF_INJECT        := $(BUILD)/tests/agent/af-inject
TEST_PROGS += $(TEST_AGENT_PROTO) tests/agent/live_test.py tests/agent/valgrind_test.py \
              tests/agent/vmname_test.py

# the drivers are scripts; what they run must be built with them
build-all: $(AF_INJECT)

$(TEST_AGENT_PROTO): $(BUILD)/tests/agent/test_proto.o $(AGENT_LIB_OBJS) $(CHECK_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

$(BUILD)/tests/agent/af-inject.o: CFLAGS += -Iagent
$(AF_INJECT): $(BUILD)/tests/agent/af-inject.o $(BUILD)/agent/obs.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_BPF)

# Agent tests: protocol unit tests (C), and the live agent driven through
# its replay program by af-inject over a temporary socket (Python drivers:
# live_test.py, valgrind_test.py for leaks and memory errors, socket_test.py
# for the socket's locks, paths and modes and the CLI's timeouts, utf8_test.py
# for UTF-8 and JSON on every line the agent writes, limits_test.py for the
# open-file limit and the memory of the queues).

TEST_AGENT_PROTO := $(BUILD)/tests/agent/test_proto
AF_INJECT        := $(BUILD)/tests/agent/af-inject
TEST_PROGS += $(TEST_AGENT_PROTO) tests/agent/live_test.py tests/agent/valgrind_test.py \
              tests/agent/vmname_test.py tests/agent/socket_test.py tests/agent/utf8_test.py \
              tests/agent/limits_test.py

# the drivers are scripts; what they run must be built with them
build-all: $(AF_INJECT)

$(TEST_AGENT_PROTO): $(BUILD)/tests/agent/test_proto.o $(AGENT_LIB_OBJS) $(CHECK_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

$(BUILD)/tests/agent/af-inject.o: CFLAGS += -Iagent
$(AF_INJECT): $(BUILD)/tests/agent/af-inject.o $(BUILD)/agent/obs.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_BPF)

# The request reader (lib/json.c) under libFuzzer, with jansson as the
# reference parser and a UTF-8/escape oracle (fuzz_json.c); FUZZ_CFLAGS
# come from tests/blk/module.mk (a recipe reads them when it runs).
JSON_FUZZ := $(BUILD)/tests/agent/fuzz_json
$(JSON_FUZZ): tests/agent/fuzz_json.c tests/agent/fuzz_json_ref.c tests/agent/fuzz_json_ref.h \
	      lib/json.c lib/json.h
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) tests/agent/fuzz_json.c tests/agent/fuzz_json_ref.c lib/json.c \
		-ljansson -o $@

build-all: $(JSON_FUZZ)
TEST_PROGS += tests/agent/fuzz-json.sh

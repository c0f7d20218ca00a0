# Agent benchmarks (not tests): bench/agent/run.sh.
SUB_BENCH := $(BUILD)/bench/agent/sub-bench
build-all: $(SUB_BENCH)

$(SUB_BENCH): $(BUILD)/bench/agent/sub-bench.o $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

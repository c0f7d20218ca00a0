# Scheduler and HDD-model tests: unit tests of each rule, and properties
# of whole runs in the discrete-event simulator (simulated time, seeded:
# deterministic, no timed assertions).
# The scheduler library (SCHED_SRCS, blk/module.mk) plus the simulator,
# also linked by bench/sched.
SCHED_SIM_OBJS := $(SCHED_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/tests/sched/sim.o

SCHED_TESTS := $(BUILD)/tests/sched/test_sched_unit $(BUILD)/tests/sched/test_sched_sim
TEST_PROGS += $(SCHED_TESTS)

$(SCHED_TESTS): %: %.o $(SCHED_SIM_OBJS) $(CHECK_OBJS)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $^ -lm -o $@

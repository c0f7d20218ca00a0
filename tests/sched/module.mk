# Scheduler and HDD-model tests: unit tests of each rule, and properties
# of whole runs in the discrete-event simulator (simulated time, seeded:
# deterministic, no timed assertions).
include tests/sched/objs.mk

SCHED_TESTS := $(BUILD)/tests/sched/test_sched_unit $(BUILD)/tests/sched/test_sched_sim
TEST_PROGS += $(SCHED_TESTS)

$(SCHED_TESTS): %: %.o $(SCHED_SIM_OBJS)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $^ -lm -o $@

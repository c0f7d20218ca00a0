# make bench-sched: the anticipatory-scheduling evaluation in the
# simulator (HDD model), one JSON object per line per point.
include tests/sched/objs.mk

BENCH_SCHED := $(BUILD)/bench/sched/bench_sched

bench-sched: $(BENCH_SCHED)
	$(Q)$(BENCH_SCHED) $(BENCH_SCHED_ARGS)

$(BENCH_SCHED): %: %.o $(SCHED_SIM_OBJS)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $^ -lm -o $@

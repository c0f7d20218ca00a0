# make bench-sched: the anticipatory-scheduling evaluation in the
# simulator (HDD model), one JSON object per line per point.
# SCHED_SIM_OBJS: tests/sched/module.mk
BENCH_SCHED := $(BUILD)/bench/sched/bench_sched

bench-sched: $(BENCH_SCHED)
	$(Q)$(BENCH_SCHED) $(BENCH_SCHED_ARGS)

$(BENCH_SCHED): %: %.o $(SCHED_SIM_OBJS)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $^ -lm -o $@

# make bench-sched-e2e: the same evaluation end to end, live: the test
# guest under QEMU (KVM where it works) on antfarm-blk --hdd-model
# --time-scale K with the real antfarm-agent's hints, then the /dev/shm
# check; ~50 min.  E2E_ARGS='--quick' for one point; see bench/sched/e2e.py.
bench-sched-e2e: $(BUILD)/antfarm-blk $(BUILD)/antfarm-agent $(GUEST_ELF) $(VHU_CLIENT)
	$(Q)ANTFARM_BUILD=$(BUILD) python3 bench/sched/e2e.py $(E2E_ARGS)

TEST_PROGS += bench/sched/test-sched-e2e
.PHONY: bench-sched-e2e

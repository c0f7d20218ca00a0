# bench-bpf: mean BPF cost per state-machine invocation (bpf_stats on af_replay).
# Not a test.  Usage: make bench-bpf [BENCH_BPF_N=1000000]

BENCH_BPF_N ?= 1000000

$(BUILD)/bench/bpf/bench_bpf.o: CFLAGS += -Iagent

$(BUILD)/bench/bpf/bench_bpf: $(BUILD)/bench/bpf/bench_bpf.o $(COLLECTOR_OBJS) $(LIB_OBJS)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS_BPF) -o $@

.PHONY: bench-bpf
bench-bpf: $(BUILD)/bench/bpf/bench_bpf
	$(Q)$(BUILD)/bench/bpf/bench_bpf $(BENCH_BPF_N)

# the same under a running guest (KVM): make bench-bpf-live
.PHONY: bench-bpf-live
bench-bpf-live: $(BUILD)/antfarm-agent $(ASVMM) $(BUILD)/tests/guest/guest.elf
	$(Q)python3 bench/bpf/live.py

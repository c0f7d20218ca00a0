# bench-overhead: the guest's slowdown with the agent attached (bench/overhead/run.py).
# Not a test.  Usage: make bench-overhead [OVERHEAD_ARGS='--quick']
# floor: empty programs on the same tracepoints (the cost of merely enabling them).

OVH_OUT := $(BUILD)/bench/overhead

$(OVH_OUT)/floor.bpf.o: bench/overhead/floor.bpf.c vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MF $(@:.o=.d) -c $< -o $@

$(OVH_OUT)/floor.skel.h: $(OVH_OUT)/floor.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name floor_bpf > $@.tmp && mv $@.tmp $@

$(OVH_OUT)/floor.o: CFLAGS += -I$(OVH_OUT)
$(OVH_OUT)/floor.o: $(OVH_OUT)/floor.skel.h

$(OVH_OUT)/floor: $(OVH_OUT)/floor.o
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS_BPF) -o $@

.PHONY: bench-overhead
bench-overhead: $(OVH_OUT)/floor $(BUILD)/antfarm-agent $(BUILD)/antfarm-blk $(ASVMM) \
		$(BUILD)/tests/guest/guest.elf
	$(Q)python3 bench/overhead/run.py $(OVERHEAD_ARGS)

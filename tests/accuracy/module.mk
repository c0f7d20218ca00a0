# The end-to-end accuracy harness: antfarm-agent against the test guest's
# ground truth.  `make accuracy` (short) or `make accuracy SIZE=long`;
# needs /dev/kvm and root, and says so when they are missing (exit 3).
# MODE=replay runs without KVM: the guest's log replayed to the agent.
# Defaults applied in the recipe: bench-blk also reads SIZE.
accuracy: $(BUILD)/antfarm-agent $(AF_INJECT) $(GUEST_ELF)
	$(Q)tests/accuracy/accuracy --size $(or $(SIZE),short) --mode $(or $(MODE),kvm)

TEST_PROGS += tests/accuracy/test-score tests/accuracy/test-accuracy tests/accuracy/test-replay

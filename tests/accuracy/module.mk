# The end-to-end accuracy harness: antfarm-agent against the test guest's
# ground truth.  `make accuracy` (short) or `make accuracy SIZE=long`;
# needs /dev/kvm and root, and says so when they are missing (exit 3).
# MODE=replay runs without KVM: the guest's log replayed to the agent.
SIZE ?= short
MODE ?= kvm

accuracy: $(BUILD)/antfarm-agent $(BUILD)/tests/guest/guest.elf
	$(Q)tests/accuracy/accuracy --size $(SIZE) --mode $(MODE)

TEST_PROGS += tests/accuracy/test-score tests/accuracy/test-accuracy tests/accuracy/test-replay

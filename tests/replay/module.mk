# The replay corpus: recordings made live on a KVM host (record-corpus)
# replayed through the live BPF state machine on every host (test-corpus).
# test-corpus needs the agent (built) and the asvmm comparison (tests/kvm).

TEST_PROGS += tests/replay/test-corpus tests/replay/test-traces

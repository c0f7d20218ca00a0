# The test runner's own test (a fake kernel log, fake tests).
TEST_PROGS += tests/runner/test-runner

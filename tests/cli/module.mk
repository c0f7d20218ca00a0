# CLI tests: antfarm top against the real agent, as text and under tmux.
TEST_PROGS += tests/cli/test_top.py

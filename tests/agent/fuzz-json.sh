#!/bin/sh
# Short libFuzzer run of the request reader every client line goes through
# (lib/json.c), against jansson as the reference and with a UTF-8/escape
# oracle (tests/agent/fuzz_json.c).  Any crash, trap or sanitizer report fails.
FUZZ_SRC=tests/agent FUZZ_RUNS=${FUZZ_RUNS:-200000} \
	exec sh tests/lib/fuzz-run.sh "${ANTFARM_BUILD:-build}/tests/agent" fuzz_json

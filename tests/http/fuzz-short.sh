#!/bin/sh
# Short libFuzzer run of the /metrics server's request parser, with its
# oracle (tests/http/fuzz_http.c), its seeds and dictionary.  Any crash,
# trap or sanitizer report fails.
FUZZ_SRC=tests/http exec sh tests/lib/fuzz-run.sh "${ANTFARM_BUILD:-build}/tests/http" fuzz_http

#!/bin/sh
# Short libFuzzer runs of antfarm-blk's two untrusted-input parsers
# (the long run is make bench-fuzz, bench/fuzz).  Any crash or sanitizer report fails.
exec sh tests/lib/fuzz-run.sh "${ANTFARM_BUILD:-build}/tests/blk" fuzz_msg fuzz_chain

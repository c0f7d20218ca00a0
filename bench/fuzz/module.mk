# make bench-fuzz: long libFuzzer runs of every parser of untrusted input
# (antfarm-blk's vhost-user messages and descriptor chains, the agent's
# request reader, the metrics endpoints' HTTP parser); make bench-blk-fuzz:
# antfarm-blk's two only.
.PHONY: bench-fuzz bench-blk-fuzz
BENCH_BLK_FUZZ := $(BLK_FUZZ:%=%:tests/blk)
bench-blk-fuzz: $(BLK_FUZZ)
	$(Q)sh bench/fuzz/run.sh $(BENCH_BLK_FUZZ)
bench-fuzz: $(BLK_FUZZ) $(JSON_FUZZ) $(HTTP_FUZZ)
	$(Q)sh bench/fuzz/run.sh $(BENCH_BLK_FUZZ) $(JSON_FUZZ):tests/agent $(HTTP_FUZZ):tests/http

# make bench-blk-fuzz: long libFuzzer runs of antfarm-blk's parsers.
.PHONY: bench-blk-fuzz
bench-blk-fuzz: $(BLK_FUZZ)
	$(Q)sh bench/blk-fuzz/run.sh

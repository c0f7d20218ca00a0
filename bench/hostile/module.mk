# make bench-hostile: test-hostile's random chains and messages at ten times
# the suite's count (VHU_FUZZ_N=1500), for several seeds, against antfarm-blk
# (BACKEND=asan: its sanitizer build).  Too slow for the suite (~1.5 min a
# seed).  One JSON line per seed; any failure fails the target.
#   make bench-hostile [SEEDS='0x5eed0f5eed 777 4242'] [N=1500] [BACKEND=asan]
.PHONY: bench-hostile
bench-hostile: $(BUILD)/tests/vhu/test-hostile $(BUILD)/antfarm-blk $(BLK_ASAN)
	$(Q)SEEDS='$(or $(SEEDS),0x5eed0f5eed 777 4242)' N=$(or $(N),1500) \
	  BACKEND=$(BACKEND) sh bench/hostile/run.sh

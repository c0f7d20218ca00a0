# antfarm-blk tests: end to end over the socket, parser unit tests,
# libFuzzer runs of both parsers, and QEMU's negotiation.
BLKT_DIR := $(BUILD)/tests/blk

TEST_PROGS += $(BLKT_DIR)/e2e

$(BLKT_DIR)/e2e: $(BUILD)/tests/blk/e2e.o $(BUILD)/tests/blk/mini.o $(BUILD)/tests/blk/util.o \
		 | $(BUILD)/antfarm-blk
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@

# antfarm-blk tests: end to end over the socket, parser unit tests,
# libFuzzer runs of both parsers, and QEMU's negotiation.
BLKT_DIR := $(BUILD)/tests/blk

TEST_PROGS += $(BLKT_DIR)/e2e

$(BLKT_DIR)/e2e: $(BUILD)/tests/blk/e2e.o $(BUILD)/tests/blk/mini.o $(BUILD)/tests/blk/util.o \
		 | $(BUILD)/antfarm-blk
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@

TEST_PROGS += $(BLKT_DIR)/parsers

$(BUILD)/tests/blk/parsers.o: CFLAGS += -Iblk
$(BLKT_DIR)/parsers: $(BUILD)/tests/blk/parsers.o $(BUILD)/tests/blk/util.o $(BLK_CORE_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@

# libFuzzer targets (clang); built with the rest so the short run can use them.
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	       -std=gnu11 -D_GNU_SOURCE -Iinclude -Iblk -Wall -Wno-unused-parameter
BLK_FUZZ := $(BLKT_DIR)/fuzz_msg $(BLKT_DIR)/fuzz_chain
$(BLKT_DIR)/fuzz_%: tests/blk/fuzz_%.c $(BLK_CORE_SRCS) blk/vub.h blk/virtq.h blk/blkreq.h blk/vhost_msg.h
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $< $(BLK_CORE_SRCS) -o $@

build-all: $(BLK_FUZZ)
TEST_PROGS += tests/blk/fuzz-short.sh
TEST_PROGS += tests/blk/qemu-negotiate.sh
TEST_PROGS += tests/blk/qemu-guest.sh

# antfarm-blk tests: end to end over the socket (with the vhu front-end,
# tests/vhu), parser unit tests, libFuzzer runs of both parsers, and
# QEMU's negotiation.
BLKT_DIR := $(BUILD)/tests/blk

TEST_PROGS += $(BLKT_DIR)/e2e

$(BUILD)/tests/blk/e2e.o: CFLAGS += -Itests/vhu
$(BLKT_DIR)/e2e: $(BUILD)/tests/blk/e2e.o $(VHU_LIB_OBJS) | $(BUILD)/antfarm-blk
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@

TEST_PROGS += $(BLKT_DIR)/parsers

$(BUILD)/tests/blk/parsers.o: CFLAGS += -iquote blk
$(BLKT_DIR)/parsers: $(BUILD)/tests/blk/parsers.o $(BLK_CORE_OBJS) $(LIB_OBJS) $(CHECK_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@

# libFuzzer targets (clang); built with the rest so the short run can use them.
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	       -std=gnu11 -D_GNU_SOURCE -I. -Iinclude -iquote blk $(WARN)
BLK_FUZZ := $(BLKT_DIR)/fuzz_msg $(BLKT_DIR)/fuzz_chain
$(BLKT_DIR)/fuzz_%: tests/blk/fuzz_%.c $(BLK_CORE_SRCS) $(LIB_SRCS) $(wildcard blk/*.h lib/*.h) \
		   $(FLAGS_FILE)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $< $(BLK_CORE_SRCS) $(LIB_SRCS) -o $@

build-all: $(BLK_FUZZ)
TEST_PROGS += tests/blk/fuzz-short.sh
TEST_PROGS += tests/blk/qemu-negotiate.sh
TEST_PROGS += tests/blk/qemu-guest.sh

# antfarm-blk under ASan/UBSan/LSan for asan-e2e.sh (same sources, own objects)
BLK_ASAN := $(BLKT_DIR)/asan/antfarm-blk
$(BLK_ASAN): $(BLK_SRCS) $(LIB_SRCS) $(wildcard blk/*.h lib/*.h include/*.h) $(FLAGS_FILE)
	$(call msg,ASAN,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) -O1 -g $(WARN) -fsanitize=address,undefined -fno-omit-frame-pointer -std=gnu11 \
		-D_GNU_SOURCE -I. -Iinclude $(BLK_SRCS) $(LIB_SRCS) -o $@ -luring -lpthread -lm
build-all: $(BLK_ASAN)
TEST_PROGS += tests/blk/asan-e2e.sh
TEST_PROGS += tests/blk/cli.sh tests/blk/sockets.sh
TEST_PROGS += tests/blk/hdd-share.sh

# exact hint tags: antfarm-agent + af-inject + antfarm-blk + the vhu front-end
TEST_PROGS += $(BLKT_DIR)/hints-exact
$(BUILD)/tests/blk/hints_exact.o: CFLAGS += -Itests/vhu
$(BLKT_DIR)/hints-exact: $(BUILD)/tests/blk/hints_exact.o $(VHU_LIB_OBJS) \
		 | $(BUILD)/antfarm-blk $(BUILD)/antfarm-agent $(AF_INJECT)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@
